"""The carrier conformance suite: one set of tests, run for every code in `integrations.carriers.registry` against
that carrier's simulator on loopback. Differences between carriers are read from the connector (its label formats,
whether it refreshes tokens, whether a multi-parcel create is atomic, whether it pushes events), never from its name.

Not here: refusing a void after hand-off is the shipping service's rule (it knows the hand-off); the simulators do
refuse a void of a parcel they scanned, as the carriers do, and that is tested below."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
from pathlib import Path

import pytest

from integrations.carriers import registry
from integrations.carriers.errors import CarrierRejected, NotSupported
from integrations.carriers.protocol import (
    LABEL_MAGIC,
    Carrier,
    EventKind,
    Parcel,
    ShipmentResult,
    events_in_order,
)
from integrations.carriers.simulator_kit import BAD_POSTAL_CODE
from integrations.http import AmbiguousWrite, AuthExpired
from tests.integrations.carriers.hub import Hub


def _created(sim) -> set[str]:
    return {number for number, parcel in sim.parcels.items() if parcel["state"] == "created"}


def _one(carrier, client, **kwargs) -> ShipmentResult:
    result = carrier.create_shipment(client, carrier.example_request(**kwargs))
    assert result.all_ok, result
    return result


# -- the protocol and the registry ------------------------------------------------------------------------------------


def test_the_connector_keeps_the_protocol(carrier, credentials):
    assert isinstance(carrier, Carrier)
    assert registry.connector_for(carrier.code) is carrier
    assert Path(__file__).parents[4].joinpath("integrations", "carriers", carrier.code, "fixtures").is_dir()
    assert carrier.credential_problems(credentials) == []
    missing = carrier.credential_problems({})
    assert missing and all(isinstance(p, str) and p for p in missing)
    assert carrier.label_formats and set(carrier.label_formats) <= set(LABEL_MAGIC)
    assert set(carrier.reprint_formats) <= set(LABEL_MAGIC)
    assert carrier.services and carrier.example_request().service in carrier.services
    assert carrier.api_host_allowed("127.0.0.1")
    from urllib.parse import urlsplit

    assert carrier.api_host_allowed(urlsplit(carrier.api_base_url()).hostname or "")
    assert not carrier.api_host_allowed("carrier.example.com")
    assert carrier.tracking_poll_minutes > 0


def test_an_unregistered_carrier_names_those_on_offer():
    with pytest.raises(registry.UnknownCarrier) as refused:
        registry.connector_for("pigeon_post")
    for code in registry.codes():
        assert code in str(refused.value)


# -- labels ------------------------------------------------------------------------------------------------------------


def test_labels_in_every_format_the_carrier_offers(carrier, client, sim):
    for label_format in carrier.label_formats:
        result = _one(carrier, client, parcels=1, label_format=label_format)
        label = result.parcels[0].label
        assert label.format == label_format
        assert label.content.startswith(LABEL_MAGIC[label_format])
        assert label.sha256 == hashlib.sha256(label.content).hexdigest()
        assert result.parcels[0].tracking_number in sim.parcels


def test_one_label_per_parcel(carrier, client, sim):
    result = _one(carrier, client, parcels=3)
    numbers = [p.tracking_number for p in result.parcels]
    assert [p.parcel_reference for p in result.parcels] == ["P1", "P2", "P3"]
    assert len(set(numbers)) == 3 and set(numbers) <= _created(sim)
    assert len({p.label.sha256 for p in result.parcels}) == 3


def test_reprints_in_every_reprint_format(carrier, client):
    number = _one(carrier, client).parcels[0].tracking_number
    for label_format in carrier.reprint_formats:
        label = carrier.reprint_label(client, tracking_number=number, label_format=label_format)
        assert label.content.startswith(LABEL_MAGIC[label_format]), label_format


def test_a_shipment_the_carrier_accepts_validates(carrier, client, sim):
    problems = carrier.validate_shipment(client, carrier.example_request())
    assert all(p.severity == "warning" for p in problems)
    assert not sim.parcels  # validating buys nothing


# -- refusals ----------------------------------------------------------------------------------------------------------


def test_a_bad_address_is_a_typed_error_with_the_carriers_message(carrier, client, sim):
    request = carrier.example_request(parcels=2)
    bad = dataclasses.replace(request, recipient=dataclasses.replace(request.recipient, postal_code=BAD_POSTAL_CODE))
    with pytest.raises(CarrierRejected) as refused:
        carrier.create_shipment(client, bad)
    assert refused.value.carrier == carrier.name
    assert refused.value.messages and all(m.strip() for m in refused.value.messages)
    assert str(refused.value).startswith(f"{carrier.name} refused the request: ")
    assert refused.value.messages[-1] in str(refused.value)
    assert not sim.parcels  # no label was bought


def test_an_overweight_parcel_is_a_typed_error_with_the_carriers_message(carrier, client, sim):
    request = dataclasses.replace(carrier.example_request(), parcels=(Parcel("P1", carrier.max_parcel_grams + 1000),))
    with pytest.raises(CarrierRejected) as refused:
        carrier.create_shipment(client, request)
    assert refused.value.messages and "weight" in str(refused.value).lower()
    assert not sim.parcels


def test_an_unknown_service_is_refused_before_any_call(carrier, client, sim):
    with pytest.raises(CarrierRejected, match="unknown service"):
        carrier.create_shipment(client, dataclasses.replace(carrier.example_request(), service="NOPE"))
    assert not sim.requests


# -- credentials -------------------------------------------------------------------------------------------------------


def test_an_expired_token_is_refreshed_once(carrier, client, sim):
    _one(carrier, client)
    _one(carrier, client)
    if not carrier.token_refresh_supported:
        # Static keys: nothing to refresh. A 401 is the kit's to act on (pause the account), sent once.
        sim.add_fault("token_expired")
        calls = len(sim.requests)
        with pytest.raises(AuthExpired):
            carrier.create_shipment(client, carrier.example_request())
        assert len(sim.requests) == calls + 1
        return
    assert sim.tokens_issued == 1  # kept until it expires
    sim.add_fault("token_expired")
    _one(carrier, client)
    assert sim.tokens_issued == 2  # fetched again once, and the call sent once more
    sim.add_fault("token_expired")
    sim.add_fault("401")
    with pytest.raises(AuthExpired):
        carrier.create_shipment(client, carrier.example_request())
    assert sim.tokens_issued == 3  # one refresh per call, never a loop


# -- rate limits and failures ------------------------------------------------------------------------------------------


def test_429_waits_what_retry_after_says(carrier, client, sim, sleeps):
    sim.add_fault("429", retry_after=7)
    _one(carrier, client)
    assert sleeps == [7.0]


def test_5xx_is_retried_on_reads(carrier, client, sim, sleeps):
    number = _one(carrier, client).parcels[0].tracking_number
    sim.scan(number)
    sim.add_fault("500", method="GET", times=2)
    events = carrier.track(client, number)
    assert events and len(sleeps) == 2


def test_a_write_that_fails_with_500_is_ambiguous_and_not_repeated(carrier, client, sim):
    _one(carrier, client)  # any token is fetched now: the next POST is the create itself
    bought = set(sim.parcels)
    posts = len([r for r in sim.requests if r["method"] == "POST"])
    sim.add_fault("500", method="POST")
    with pytest.raises(AmbiguousWrite):
        carrier.create_shipment(client, carrier.example_request())
    assert len([r for r in sim.requests if r["method"] == "POST"]) == posts + 1
    assert set(sim.parcels) == bought


# -- partial success ---------------------------------------------------------------------------------------------------


def test_a_multi_parcel_create_is_reported_per_parcel(carrier, client, sim):
    if carrier.multi_parcel_atomic:
        # The carrier takes or refuses a shipment whole: one bad parcel refuses all, and nothing is bought.
        request = carrier.example_request(parcels=3)
        heavy = (*request.parcels[:2], Parcel("P3", carrier.max_parcel_grams + 1000))
        with pytest.raises(CarrierRejected):
            carrier.create_shipment(client, dataclasses.replace(request, parcels=heavy))
        assert not sim.parcels
        return
    sim.add_fault("partial")
    result = carrier.create_shipment(client, carrier.example_request(parcels=3))
    assert result.partial and not result.all_ok
    assert [p.ok for p in result.parcels] == [True, True, False]
    failed = result.failed[0]
    assert failed.parcel_reference == "P3" and failed.problems and not failed.tracking_number and failed.label is None
    assert all(p.label.content.startswith(LABEL_MAGIC[p.label.format]) for p in result.parcels if p.ok)


def test_a_multi_parcel_cancel_is_reported_per_parcel(carrier, client, sim):
    result = _one(carrier, client, parcels=2)
    numbers = [p.tracking_number for p in result.parcels]
    sim.add_fault("partial")
    answers = carrier.cancel(client, shipment_number=result.shipment_number, tracking_numbers=numbers)
    assert [a.tracking_number for a in answers] == numbers
    assert [a.cancelled for a in answers] == [True, False]
    assert answers[1].message


# -- cancel ------------------------------------------------------------------------------------------------------------


def test_a_label_is_voided_before_hand_off(carrier, client, sim):
    result = _one(carrier, client)
    number = result.parcels[0].tracking_number
    (answer,) = carrier.cancel(client, shipment_number=result.shipment_number, tracking_numbers=[number])
    assert answer.cancelled and not answer.message
    assert sim.parcels[number]["state"] == "cancelled"


def test_the_carrier_refuses_a_void_once_it_has_the_parcel(carrier, client, sim):
    result = _one(carrier, client)
    number = result.parcels[0].tracking_number
    sim.scan(number)
    (answer,) = carrier.cancel(client, shipment_number=result.shipment_number, tracking_numbers=[number])
    assert not answer.cancelled and answer.message
    assert sim.parcels[number]["state"] == "handed_over"


# -- tracking ----------------------------------------------------------------------------------------------------------


def test_tracking_events_in_time_order(carrier, client, sim):
    number = _one(carrier, client).parcels[0].tracking_number
    assert carrier.track(client, number) == []  # nothing yet: not an error
    sim.scan(number)
    events = carrier.track(client, number)
    assert [e.occurred_at for e in events] == sorted(e.occurred_at for e in events)
    assert all(e.occurred_at.tzinfo is not None and e.carrier == carrier.code for e in events)
    assert all(e.tracking_number == number and e.code for e in events)
    kinds = [e.kind for e in events]
    assert kinds[0] == EventKind.PRE_TRANSIT and not events[0].is_carrier_scan
    assert EventKind.PICKED_UP in kinds and EventKind.OUT_FOR_DELIVERY in kinds
    assert kinds[-1] == EventKind.DELIVERED
    assert kinds.index(EventKind.PICKED_UP) < kinds.index(EventKind.OUT_FOR_DELIVERY)


def test_the_same_event_twice_is_one_event(carrier, client, sim):
    number = _one(carrier, client).parcels[0].tracking_number
    sim.scan(number)
    once = carrier.track(client, number)
    sim.duplicate_events(number)
    twice = carrier.track(client, number)
    assert twice == once
    assert len({e.dedupe_key for e in twice}) == len(twice)
    shuffled = list(reversed(once)) + once
    assert events_in_order(shuffled) == once
    moved = dataclasses.replace(once[0], occurred_at=once[0].occurred_at + dt.timedelta(seconds=1))
    assert moved.dedupe_key != once[0].dedupe_key  # another time is another event


# -- pushed events -----------------------------------------------------------------------------------------------------


def test_pushed_events_are_subscribed_and_verified(carrier, client, sim, credentials):
    number = _one(carrier, client).parcels[0].tracking_number
    if not carrier.supports_webhooks:
        with pytest.raises(NotSupported):
            carrier.subscribe_tracking(client, [number])
        assert (
            carrier.webhook_verify(headers={}, body=b"{}", credentials=credentials, now=dt.datetime.now(dt.UTC))
            is False
        )
        return
    subscription = carrier.subscribe_tracking(client, [number])
    assert subscription.subscribed == (number,) and not subscription.refused
    with Hub(carrier, credentials).running() as hub:
        sim.configure(hub_url=f"{hub.url}/events", hub_token_url=f"{hub.url}/token")
        sim.scan(number)
        assert hub.deliveries and all(d["verified"] for d in hub.deliveries)
        pushed = events_in_order(hub.events)
        assert [e.dedupe_key for e in pushed] == [e.dedupe_key for e in carrier.track(client, number)]


# Only the carriers that push events: the others are polled, and the test above shows they refuse any push.
@pytest.mark.parametrize(
    "carrier", [c for c in registry.codes() if registry.connector_for(c).supports_webhooks], indirect=True
)
def test_a_push_without_our_token_is_refused(carrier, client, sim, credentials):
    now = dt.datetime.now(dt.UTC)
    body = b'{"trackingNumber": "1Z0000000000000000"}'
    good = carrier.webhook_token(
        authorization=_basic(credentials["webhook_client_id"], credentials["webhook_client_secret"]),
        body=b"grant_type=client_credentials",
        credentials=credentials,
        now=now,
    )
    assert good is not None
    token = good["access_token"]
    headers = {"Authorization": f"Bearer {token}", "x-api-key": credentials["webhook_client_id"]}
    assert carrier.webhook_verify(headers=headers, body=body, credentials=credentials, now=now)
    refused = [
        {},
        {"Authorization": f"Bearer {token}"},  # no x-api-key
        {**headers, "x-api-key": "someone-else"},
        {**headers, "Authorization": f"Bearer {token[:-2]}xx"},  # altered signature
        {**headers, "Authorization": "Bearer not.a-token"},
        {**headers, "Authorization": f"Basic {token}"},
    ]
    for bad in refused:
        assert not carrier.webhook_verify(headers=bad, body=body, credentials=credentials, now=now), bad
    later = now + dt.timedelta(hours=2)
    assert not carrier.webhook_verify(headers=headers, body=body, credentials=credentials, now=later)  # expired
    rotated = {**credentials, "webhook_client_secret": "a-new-secret-0002"}
    assert not carrier.webhook_verify(headers=headers, body=body, credentials=rotated, now=now)
    wrong_secret = _basic(credentials["webhook_client_id"], "guess")
    assert (
        carrier.webhook_token(
            authorization=wrong_secret, body=b"grant_type=client_credentials", credentials=credentials, now=now
        )
        is None
    )


def _basic(user: str, password: str) -> str:
    import base64

    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()
