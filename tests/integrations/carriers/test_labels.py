"""Label files: the carrier's bytes as they came, with their SHA-256 and cost, read back checked."""

from __future__ import annotations

import pytest

from integrations.carriers import registry
from integrations.carriers.labels import LabelTampered, label_read, label_store_result


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.mark.parametrize("code", registry.codes())
def test_labels_are_kept_as_files_with_their_sha256_and_cost(code, tmp_path):
    connector = registry.connector_for(code)
    credentials = connector.demo_credentials(lambda name: f"{name}-labels-0001")
    with connector.simulator(credentials=credentials).running() as sim:
        client = connector.client(base_url=sim.url, credentials=credentials)
        for label_format in connector.label_formats:
            result = connector.create_shipment(client, connector.example_request(parcels=2, label_format=label_format))
            for parcel in result.parcels:
                stored = label_store_result(carrier=code, result=parcel)
                assert stored.path.startswith(f"labels/{code}/") and stored.path.endswith(parcel.label.suffix)
                assert (tmp_path / stored.path).read_bytes() == parcel.label.content
                assert stored.sha256 == parcel.label.sha256 and stored.format == label_format
                assert (stored.cost, stored.currency) == (
                    (parcel.cost.amount, parcel.cost.currency) if parcel.cost else (None, "")
                )
                assert label_read(stored) == parcel.label.content
                again = label_store_result(carrier=code, result=parcel)  # a second store finds the same file
                assert again.path == stored.path and len(list((tmp_path / stored.path).parent.iterdir())) >= 1


def test_a_changed_label_file_is_refused(tmp_path):
    connector = registry.connector_for(registry.codes()[0])
    credentials = connector.demo_credentials(lambda name: f"{name}-labels-0002")
    with connector.simulator(credentials=credentials).running() as sim:
        client = connector.client(base_url=sim.url, credentials=credentials)
        parcel = connector.create_shipment(client, connector.example_request()).parcels[0]
    stored = label_store_result(carrier=connector.code, result=parcel)
    (tmp_path / stored.path).write_bytes(b"%PDF-1.4 something else")
    with pytest.raises(LabelTampered):
        label_read(stored)
