"""What the connectors send and what the simulators answer, validated against the carriers' official OpenAPI
documents in ../shared/specs/carriers/ (the schema of the same operation), so neither side drifts from the real API."""

from __future__ import annotations

import dataclasses
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from integrations.carriers.dhl_parcel_de.connector import connector as dhl
from integrations.carriers.protocol import PDF, ZPL, CustomsLine, Parcel
from integrations.carriers.simulator_kit import BAD_POSTAL_CODE
from integrations.carriers.ups.connector import connector as ups

# The official OpenAPI documents are kept beside each carrier's fixtures (copied from ../shared/specs/carriers/), so
# these checks run in every checkout, CI's fresh clone included.
CARRIERS = Path(__file__).parents[3] / "integrations" / "carriers"


def _spec_path(name: str) -> Path:
    carrier, _, file = name.partition("/")
    return CARRIERS / carrier / "fixtures" / "openapi" / file


@cache
def _spec(name: str) -> dict[str, Any]:
    return yaml.load(_spec_path(name).read_text(encoding="utf-8"), Loader=yaml.CSafeLoader)


def _errors(spec: str, schema: str, instance: Any) -> list[str]:
    document = _spec(spec)
    root = {"$ref": f"#/components/schemas/{schema}", "components": document["components"]}
    # OpenAPI 3.0 schemas are draft-4 style (boolean exclusiveMaximum); 3.1 is JSON Schema 2020-12.
    draft = (
        jsonschema.Draft202012Validator
        if str(document.get("openapi", "")).startswith("3.1")
        else jsonschema.Draft4Validator
    )
    validator = draft(root)
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(instance)]


# Where the official document contradicts itself, named one by one: Label Recovery's `LabelImageFormat.Code` has
# minLength 4 while its own description says the values returned are "GIF or PDF".
KNOWN_SPEC_FLAWS = {("LabelResults/0/LabelImage/LabelImageFormat/Code", "is too short")}


def _ok(spec: str, schema: str, instance: Any) -> None:
    errors = [e for e in _errors(spec, schema, instance) if not any(p in e and m in e for p, m in KNOWN_SPEC_FLAWS)]
    assert not errors, "\n".join(errors[:10])


def test_the_validation_can_fail():
    assert _errors("dhl_parcel_de/DHL_Parcel_DE_Shipping-v2.1.6.yaml", "ShipmentOrderRequest", {"shipments": []})
    assert _errors("ups/Shipping.yaml", "SHIPResponseWrapper", {"ShipmentResponse": {"Response": {}}})


# -- DHL Parcel DE ----------------------------------------------------------------------------------------------------

DHL_SPEC = "dhl_parcel_de/DHL_Parcel_DE_Shipping-v2.1.6.yaml"


def test_dhl_requests_are_shipment_order_requests():
    client = dhl.client(base_url="http://127.0.0.1:9", credentials=dhl.demo_credentials(str))
    request = dhl.example_request(parcels=2)
    _ok(DHL_SPEC, "ShipmentOrderRequest", dhl._payload(client, request))
    abroad = dataclasses.replace(
        request,
        service="V53WPAK",
        recipient=dataclasses.replace(request.recipient, country="GB", postal_code="SW1A 1AA", city="London"),
        customs=(CustomsLine("Red T-Shirt", 1, Decimal("10"), "EUR", 400, "61099090", "FR"),),
    )
    payload = dhl._payload(client, abroad)
    assert payload["shipments"][0]["customs"]["items"][0]["hsCode"] == "61099090"
    _ok(DHL_SPEC, "ShipmentOrderRequest", payload)


def test_dhl_simulator_answers_are_label_data_responses():
    credentials = dhl.demo_credentials(lambda name: f"{name}-schema-0001")
    with dhl.simulator(credentials=credentials).running() as sim:
        client = dhl.client(base_url=sim.url, credentials=credentials)
        answers = []
        for label_format in (PDF, ZPL):
            payload = dhl._payload(client, dhl.example_request(parcels=2, label_format=label_format))
            answers.append(client.create_orders(payload, doc_format={"PDF": "PDF", "ZPL": "ZPL2"}[label_format]))
        sim.add_fault("partial")
        answers.append(client.create_orders(dhl._payload(client, dhl.example_request(parcels=2)), doc_format="PDF"))
        answers.append(
            client.create_orders(dhl._payload(client, dhl.example_request()), doc_format="PDF", validate=True)
        )
        request = dhl.example_request()
        bad = dataclasses.replace(
            request, recipient=dataclasses.replace(request.recipient, postal_code=BAD_POSTAL_CODE)
        )
        heavy = dataclasses.replace(request, parcels=(Parcel("P1", 40000),))
        for refused in (bad, heavy):
            answers.append(client.create_orders(dhl._payload(client, refused), doc_format="PDF"))
            assert answers[-1].status == 400
        numbers = [item["shipmentNo"] for item in answers[0].body["items"]]
        answers.append(client.get_orders(shipment_numbers=numbers[:1], doc_format="PDF"))
        answers.append(client.delete_orders(profile="STANDARD_GRUPPENPROFIL", shipment_numbers=[*numbers, "nope"]))
    for answer in answers:
        _ok(DHL_SPEC, "LabelDataResponse", answer.body)


# -- UPS ---------------------------------------------------------------------------------------------------------------


def test_ups_ship_requests_are_ship_request_wrappers():
    client = ups.client(base_url="http://127.0.0.1:9", credentials=ups.demo_credentials(str))
    for label_format in ups.label_formats:
        _ok(
            "ups/Shipping.yaml",
            "SHIPRequestWrapper",
            ups.shipment_payload(client, ups.example_request(parcels=2, label_format=label_format)),
        )


def test_ups_simulator_answers_match_the_schemas():
    credentials = ups.demo_credentials(lambda name: f"{name}-schema-0001")
    with ups.simulator(credentials=credentials).running() as sim:
        client = ups.client(base_url=sim.url, credentials=credentials)
        shipped = client.ship(ups.shipment_payload(client, ups.example_request(parcels=2)))
        _ok("ups/Shipping.yaml", "SHIPResponseWrapper", shipped)
        number = shipped["ShipmentResponse"]["ShipmentResults"]["ShipmentIdentificationNumber"]
        second = shipped["ShipmentResponse"]["ShipmentResults"]["PackageResults"][1]["TrackingNumber"]
        recovered = client.recover_label(second, "ZPL")
        _ok("ups/Shipping.yaml", "LABELRECOVERYResponseWrapper", recovered)
        sim.scan(second)
        _ok("ups/Tracking.yaml", "TrackApiResponse", client.track(second))
        subscribed = client.subscribe([second])
        _ok("ups/UPSTrackAlert.yaml", "PackageSubscriptionSuccessResponse", subscribed)
        for activity in sim.fixture_events(second):
            from integrations.carriers.ups.simulator import _alert

            _ok("ups/UPSTrackAlert.yaml", "TrackingEventRequest", _alert(second, activity))
        other = client.ship(ups.shipment_payload(client, ups.example_request(parcels=2)))
        numbers = [p["TrackingNumber"] for p in other["ShipmentResponse"]["ShipmentResults"]["PackageResults"]]
        _ok("ups/Shipping.yaml", "VOIDSHIPMENTResponseWrapper", client.void(numbers[0], numbers))
        token = client.token_http.post("/security/v1/oauth/token", form={"grant_type": "client_credentials"}).json()
        _ok("ups/OAuthClientCredentials.yaml", "tokenSuccessResponse", token)
    assert number


def test_ups_refusals_are_error_responses():
    import json

    from integrations.carriers.ups.connector import FIXTURES

    for name in ("ship__bad_address.json", "ship__overweight.json", "void__refused.json", "api__token_expired.json"):
        _ok("ups/Shipping.yaml", "ErrorResponse", json.loads((FIXTURES / name).read_text()))
        assert json.loads((FIXTURES / name).read_text())["response"]["errors"][0]["message"]


def test_ups_official_track_alert_examples_are_tracking_event_requests():
    import json

    from integrations.carriers.ups.connector import FIXTURES

    for name in ("trackalert__out_for_delivery.json", "trackalert__delivered.json"):
        _ok("ups/UPSTrackAlert.yaml", "TrackingEventRequest", json.loads((FIXTURES / name).read_text()))
