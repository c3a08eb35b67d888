"""The connectors' parsers on the carriers' official files (not the simulators' answers): DHL's response fixtures,
UPS's Track Alert examples."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from integrations.carriers.dhl_parcel_de.client import Answer
from integrations.carriers.dhl_parcel_de.connector import FIXTURES as DHL
from integrations.carriers.dhl_parcel_de.connector import connector as dhl
from integrations.carriers.errors import CarrierRejected
from integrations.carriers.protocol import LABEL_MAGIC, PDF, EventKind, Parcel
from integrations.carriers.ups.connector import FIXTURES as UPS
from integrations.carriers.ups.connector import connector as ups

SHARED = Path(__file__).parents[3].parent / "shared" / "specs" / "carriers"


def _dhl(name: str) -> Answer:
    body = json.loads((DHL / name).read_text())
    return Answer(int(body["status"]["statusCode"]), body)


def _parcels(n: int) -> list[Parcel]:
    return [Parcel(f"P{i + 1}", 500) for i in range(n)]


def test_the_fixtures_are_the_official_files_byte_for_byte():
    """Against the SHA-256 of each official file, recorded from ../shared/specs (`OFFICIAL.sha256`), so the check runs
    in every checkout; where ../shared/specs is beside this one, the record is checked against the files too."""
    recorded = dict(line.split()[::-1] for line in (DHL / "OFFICIAL.sha256").read_text().splitlines())
    assert recorded
    for name, digest in recorded.items():
        assert hashlib.sha256((DHL / name).read_bytes()).hexdigest() == digest, name
    if SHARED.is_dir():
        official = {
            p.name: hashlib.sha256(p.read_bytes()).hexdigest()
            for p in (SHARED / "dhl_parcel_de" / "fixtures").iterdir()
        }
        assert official == recorded


@pytest.mark.parametrize(
    "name, parcels",
    [
        ("createshipment__singleShipmentSuccess.json", 1),
        ("createshipment__multiShipmentSuccess.json", 2),
        ("createshipment__singleShipmentValidationWarning.json", 1),
    ],
)
def test_dhl_labels_from_the_official_create_fixtures(name, parcels):
    answer = _dhl(name)
    result = dhl.parse_create(answer, _parcels(parcels))
    assert result.all_ok
    for parcel, item in zip(result.parcels, answer.body["items"], strict=True):
        assert parcel.tracking_number == item["shipmentNo"]
        assert parcel.label.format == PDF and parcel.label.content.startswith(LABEL_MAGIC[PDF])
    if "Warning" in name:
        assert [w.message for w in result.warnings] == [
            m["validationMessage"] for m in answer.body["items"][0]["validationMessages"]
        ]


@pytest.mark.parametrize(
    "name", ["createshipment__multiShipmentPartialSuccess.json", "createshipment__multiShipmentPartialError.json"]
)
def test_dhl_partial_fixtures_are_reported_per_parcel(name):
    result = dhl.parse_create(_dhl(name), _parcels(2))
    assert result.partial and not result.all_ok
    assert result.parcels[0].ok and not result.parcels[1].ok
    assert result.parcels[1].problems and not result.parcels[1].tracking_number


@pytest.mark.parametrize(
    "name",
    [
        "createshipment__singleShipmentValidationError.json",
        "createshipment__singleShipmentSchemaError.json",
        "createshipment__multiShipmentSchemaError.json",
        "createshipment__multiShipmentValidationError.json",
    ],
)
def test_dhl_refusal_fixtures_are_typed_errors_with_dhls_messages(name):
    answer = _dhl(name)
    with pytest.raises(CarrierRejected) as refused:
        dhl.parse_create(answer, _parcels(len(answer.body["items"])))
    texts = [
        m.get("validationMessage") or m.get("message")
        for item in answer.body["items"]
        for m in item.get("validationMessages") or [item]
    ]
    for text in filter(None, texts):
        assert text in str(refused.value)


@pytest.mark.parametrize("name", ["trackalert__out_for_delivery.json", "trackalert__delivered.json"])
def test_ups_track_alert_examples(name):
    body = (UPS / name).read_bytes()
    (event,) = ups.webhook_events(body)
    raw = json.loads(body)
    assert event.tracking_number == raw["trackingNumber"] == "1Z204W4R0308071865"
    assert event.kind == (EventKind.DELIVERED if "delivered" in name else EventKind.OUT_FOR_DELIVERY)
    assert event.occurred_at.isoformat().startswith("2024-04-23T13:")
    assert event.location.startswith(raw["activityLocation"]["city"])
