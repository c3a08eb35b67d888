"""Every connector says truly whether its webhooks only name the order (`Connector.thin_webhooks`): the thin-webhook
suite runs for exactly the platforms that say so, so a wrong flag would hide its tests."""

from __future__ import annotations

import json

from tests.integrations.conformance.test_thin_webhooks import create_webhook


def test_the_thin_webhooks_flag_matches_the_platforms_own_create_webhook(connector, platform_sim):
    body, _ = create_webhook(platform_sim)

    assert (connector.order_reference(json.loads(body)) is not None) is connector.thin_webhooks
