"""The outbox's simulator fixtures (a Shopify simulator on loopback, short HTTP timeouts) for the metrics tests."""

from tests.integrations.outbox.conftest import fast_http, shopify_sim, sleeps  # noqa: F401  (fixtures)
