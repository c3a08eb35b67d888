"""Stock published and read back: `publish_stock` sets the absolute number, `read_stock` shows it (a target the platform
does not have is left out), an absolute set repeated or reordered never double-counts, and publishing's own cycle
(mapping table, outbox, divergence read-back) agrees with the platform."""

from __future__ import annotations

import pytest

from integrations.connections import client_for
from integrations.models import ExternalId, ExternalIdKind
from integrations.outbox.services import outbox_drain
from integrations.platforms.protocol import StockTarget
from integrations.publishing.models import PublishedLevel
from integrations.publishing.services import publishing_check_divergence, publishing_mark_dirty, publishing_run_cycle
from tests.integrations.conformance.conftest import later


def listed(sim, sku: str) -> StockTarget:
    listing, location = sim.stock_target(sku)
    return StockTarget(listing=str(listing), location=str(location))


def test_stock_published_is_read_back(connector, platform_sim, api):
    tee, mug = listed(platform_sim, "TEE-BLK-M"), listed(platform_sim, "MUG-WHT")

    assert connector.publish_stock(api, target=tee, quantity=7) == 7
    assert connector.publish_stock(api, target=mug, quantity=0) == 0

    assert connector.read_stock(api, [tee, mug]) == {tee: 7, mug: 0}


def test_many_numbers_are_published_at_once_and_a_malformed_target_is_refused_alone(connector, platform_sim, api):
    targets = [listed(platform_sim, f"SKU-{n}") for n in range(3)]
    malformed = StockTarget(listing="not an id", location=targets[0].location)
    assert connector.external_id_problem(kind="listing", value=malformed.listing)

    done = connector.publish_stock_many(api, [(t, n + 4) for n, t in enumerate(targets)] + [(malformed, 1)])

    assert {t: done[t] for t in targets} == {t: n + 4 for n, t in enumerate(targets)}
    assert isinstance(done[malformed], str) and done[malformed]
    assert connector.read_stock(api, [*targets, malformed]) == {t: n + 4 for n, t in enumerate(targets)}


def test_an_absolute_set_repeated_or_reordered_leaves_the_last_number(connector, platform_sim, api):
    tee = listed(platform_sim, "TEE-BLK-M")

    for quantity in (12, 5, 5, 9):
        connector.publish_stock(api, target=tee, quantity=quantity)

    assert connector.read_stock(api, [tee]) == {tee: 9}


def test_a_target_the_platform_does_not_have_is_left_out_of_the_read(connector, platform_sim, api):
    tee = listed(platform_sim, "TEE-BLK-M")
    connector.publish_stock(api, target=tee, quantity=3)
    gone = StockTarget(listing="987654321", location=tee.location)

    assert connector.read_stock(api, [tee, gone]) == {tee: 3}


@pytest.mark.django_db
@pytest.mark.usefixtures("fast_http")
def test_the_wms_number_is_published_through_the_outbox_and_read_back_without_divergence(
    connector, platform_sim, connection, stocked_sku, facility
):
    """Publishing's own path: the SKU and facility mapped in the generic mapping table, a publishing cycle queues one
    absolute write, the outbox drains it through the connector, and the divergence check reads the same number."""
    listing, location = platform_sim.stock_target(stocked_sku.code)
    ExternalId.objects.create(
        connection=connection, kind=ExternalIdKind.LISTING, local_id=stocked_sku.pk, external_id=listing
    )
    if connector.stock_needs_location:
        ExternalId.objects.create(
            connection=connection, kind=ExternalIdKind.LOCATION, local_id=facility.pk, external_id=location
        )
    publishing_mark_dirty(skus=[stocked_sku])

    assert publishing_run_cycle().written == 1
    assert outbox_drain(now=later(), connection_id=connection.pk).sent == 1

    target = StockTarget(listing=listing, location=location if connector.stock_needs_location else "")
    assert connector.read_stock(client_for(connection), [target]) == {target: 100}
    checked = publishing_check_divergence(connection=connection)
    assert (checked.checked, checked.diverged) == (1, [])
    assert PublishedLevel.objects.get(connection=connection, sku=stocked_sku).channel_quantity == 100
