"""Every `publishing.ChannelListing` becomes rows of the generic mapping table (`ExternalId`), in the form its
platform's connector reads (a migration may name platforms: it translates what the old columns meant on each):

- Shopify: the listing is the inventory item id; `location_id` was a Shopify location per SKU. A location belongs to
  a facility now: a connection's location goes to the lowest-id facility (the one the shared pool is advertised at);
  when a connection's listings named several locations, the one most of them named is kept.
- WooCommerce: `location_id` held the variation id; the listing becomes "product/variation" (or "product")."""

from collections import Counter

from django.db import migrations


def forwards(apps, schema_editor):
    ChannelListing = apps.get_model("publishing", "ChannelListing")
    ExternalId = apps.get_model("integrations", "ExternalId")
    Facility = apps.get_model("warehouse", "Facility")
    first_facility = Facility.objects.order_by("pk").values_list("pk", flat=True).first()
    locations: dict[int, Counter] = {}
    rows = []
    for listing in ChannelListing.objects.select_related("connection").order_by("pk").iterator():
        platform = listing.connection.platform
        external = listing.external_id
        if platform == "woocommerce" and listing.location_id:
            external = f"{listing.external_id}/{listing.location_id}"
        elif platform == "shopify" and listing.location_id:
            locations.setdefault(listing.connection_id, Counter())[listing.location_id] += 1
        rows.append(ExternalId(connection_id=listing.connection_id, kind="listing", local_id=listing.sku_id,
                               external_id=external))  # fmt: skip
    ExternalId.objects.bulk_create(rows, ignore_conflicts=True)
    if first_facility is None:
        return
    ExternalId.objects.bulk_create(
        [
            ExternalId(connection_id=connection_id, kind="location", local_id=first_facility,
                       external_id=counts.most_common(1)[0][0])  # fmt: skip
            for connection_id, counts in locations.items()
        ],
        ignore_conflicts=True,
    )


def backwards(apps, schema_editor):
    ChannelListing = apps.get_model("publishing", "ChannelListing")
    ExternalId = apps.get_model("integrations", "ExternalId")
    location = {
        row.connection_id: row.external_id
        for row in ExternalId.objects.filter(kind="location").order_by("-local_id")  # the lowest facility wins
    }
    for row in ExternalId.objects.filter(kind="listing").select_related("connection"):
        product, _, variation = row.external_id.partition("/")
        if row.connection.platform == "woocommerce":
            external, where = product, variation
        else:
            external, where = row.external_id, location.get(row.connection_id, "")
        ChannelListing.objects.get_or_create(
            connection_id=row.connection_id, sku_id=row.local_id, defaults={"external_id": external, "location_id": where}
        )


class Migration(migrations.Migration):
    dependencies = [
        ("integrations", "0006_external_ids"),
        ("publishing", "0003_history_change_reason_text"),
        ("warehouse", "0006_exception_kinds_merged"),
    ]

    operations = [migrations.RunPython(forwards, backwards)]
