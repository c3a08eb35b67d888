"""Queued (and dead-lettered, which may be replayed) stock writes move to the platform-neutral payload the connectors
read: `{sku_id, sku, listing, location, quantity}`. A migration may name platforms: it translates what each old
payload meant. Shopify `{inventory_item_id, location_id, available}`; WooCommerce `{product_id, variation_id?,
quantity}` (its listing is "product/variation"). Fulfilment and tracking payloads were already neutral."""

from django.db import migrations


def neutral(platform, payload):
    if not isinstance(payload, dict) or "listing" in payload:
        return None
    base = {k: payload[k] for k in ("sku_id", "sku") if k in payload}
    if platform == "shopify" and "inventory_item_id" in payload:
        return {**base, "listing": str(payload["inventory_item_id"]), "location": str(payload.get("location_id") or ""),
                "quantity": payload.get("available")}  # fmt: skip
    if platform == "woocommerce" and "product_id" in payload:
        variation = payload.get("variation_id")
        listing = f"{payload['product_id']}/{variation}" if variation else str(payload["product_id"])
        return {**base, "listing": listing, "location": "", "quantity": payload.get("quantity")}
    return None


def forwards(apps, schema_editor):
    OutboundMessage = apps.get_model("outbox", "OutboundMessage")
    for message in OutboundMessage.objects.filter(kind="inventory").iterator():
        payload = neutral(message.platform, message.payload)
        if payload is not None:
            OutboundMessage.objects.filter(pk=message.pk).update(payload=payload)


def backwards(apps, schema_editor):
    OutboundMessage = apps.get_model("outbox", "OutboundMessage")
    for message in OutboundMessage.objects.filter(kind="inventory").iterator():
        payload = message.payload
        if not isinstance(payload, dict) or "listing" not in payload:
            continue
        base = {k: payload[k] for k in ("sku_id", "sku") if k in payload}
        if message.platform == "shopify":
            old = {**base, "inventory_item_id": int(payload["listing"]), "location_id": int(payload["location"] or 0),
                   "available": payload["quantity"]}  # fmt: skip
        else:
            product, _, variation = str(payload["listing"]).partition("/")
            old = {**base, "product_id": int(product), "variation_id": int(variation) if variation else None,
                   "quantity": payload["quantity"]}  # fmt: skip
        OutboundMessage.objects.filter(pk=message.pk).update(payload=old)


class Migration(migrations.Migration):
    dependencies = [("outbox", "0002_history_change_reason_text")]

    operations = [migrations.RunPython(forwards, backwards)]
