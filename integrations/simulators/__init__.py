"""Fake platforms on loopback for tests, demos and benchmarks: `ShopifySimulator`, `WooCommerceSimulator`."""

from integrations.simulators.shopify import ShopifySimulator
from integrations.simulators.woocommerce import WooCommerceSimulator

SIMULATORS = {"shopify": ShopifySimulator, "woocommerce": WooCommerceSimulator}

__all__ = ["SIMULATORS", "ShopifySimulator", "WooCommerceSimulator"]
