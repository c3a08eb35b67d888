"""Stock published and read back: `publish_stock` sets the absolute number, `read_stock` shows it (a target the platform
does not have is left out), and an absolute set repeated or reordered never double-counts."""

from __future__ import annotations

from integrations.platforms.protocol import StockTarget


def listed(sim, sku: str) -> StockTarget:
    listing, location = sim.stock_target(sku)
    return StockTarget(listing=str(listing), location=str(location))


def test_stock_published_is_read_back(connector, platform_sim, api):
    tee, mug = listed(platform_sim, "TEE-BLK-M"), listed(platform_sim, "MUG-WHT")

    assert connector.publish_stock(api, target=tee, quantity=7) == 7
    assert connector.publish_stock(api, target=mug, quantity=0) == 0

    assert connector.read_stock(api, [tee, mug]) == {tee: 7, mug: 0}


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
