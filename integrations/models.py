"""Connections to channels and ERPs. (Extended by the connector framework: credentials, mappings, inbox, audit.)"""

from __future__ import annotations

from django.db import models
from simple_history.models import HistoricalRecords

from warehouse.models import Brand


class Platform(models.TextChoices):
    SHOPIFY = "shopify", "Shopify"
    WOOCOMMERCE = "woocommerce", "WooCommerce"
    BIGCOMMERCE = "bigcommerce", "BigCommerce"
    MAGENTO = "magento", "Magento / Adobe Commerce"
    PRESTASHOP = "prestashop", "PrestaShop"
    AMAZON = "amazon", "Amazon SP-API"
    EBAY = "ebay", "eBay"
    TIKTOK = "tiktok", "TikTok Shop"
    ETSY = "etsy", "Etsy"
    MIRAKL = "mirakl", "Mirakl"
    NETSUITE = "netsuite", "NetSuite"
    SAP = "sap", "SAP S/4HANA"
    ODOO = "odoo", "Odoo"
    DYNAMICS = "dynamics", "Dynamics 365"


class ConnectionStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    POLLING_FALLBACK = "polling_fallback", "Polling fallback"
    PAUSED_CREDENTIALS = "paused_credentials", "Paused: credentials"
    DISABLED = "disabled", "Disabled"


class Connection(models.Model):
    """One brand's account on one platform (a Shopify shop, a WooCommerce site, ...)."""

    brand = models.ForeignKey(Brand, on_delete=models.PROTECT, related_name="connections")
    platform = models.CharField(max_length=20, choices=Platform.choices)
    name = models.CharField(max_length=120)
    shop = models.CharField(max_length=255, help_text="Shopify shop domain or WooCommerce site URL")
    status = models.CharField(max_length=20, choices=ConnectionStatus.choices, default=ConnectionStatus.ACTIVE)
    created_at = models.DateTimeField(auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["brand__name", "name"]
        constraints = [models.UniqueConstraint(fields=["platform", "shop"], name="one_connection_per_shop")]

    def __str__(self) -> str:
        return f"{self.name} ({self.get_platform_display()})"
