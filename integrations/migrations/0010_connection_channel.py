"""Every connection gets its sales channel (issue 12): one `warehouse.SalesChannel` per existing connection, with the
connection's brand, platform and name. Whether the platform is a marketplace is data on the channel from now on; for
the rows that exist today it is read from the list of marketplaces the allocation code used to hold (migrations may
name platforms; nothing else does). The next migration drops the copies on the connection."""

import django.db.models.deletion
from django.db import migrations, models
from django.utils import timezone

# The former `orders.allocation.models.MARKETPLACE_PLATFORMS`: handling time is an account-health contract.
MARKETPLACES = ("amazon", "ebay", "tiktok", "etsy", "mirakl")


def channel_per_connection(apps, schema_editor):
    Connection = apps.get_model("integrations", "Connection")
    HistoricalConnection = apps.get_model("integrations", "HistoricalConnection")
    SalesChannel = apps.get_model("warehouse", "SalesChannel")
    HistoricalSalesChannel = apps.get_model("warehouse", "HistoricalSalesChannel")
    now = timezone.now()
    for conn in Connection.objects.filter(channel__isnull=True).order_by("pk"):
        name = conn.name
        taken = SalesChannel.objects.filter(brand_id=conn.brand_id, platform_code=conn.platform)
        if taken.filter(name=name).exists():  # two shops of one brand under one name: the shop tells them apart
            name = f"{conn.name} ({conn.shop})"[:120]
            if taken.filter(name=name).exists():
                name = f"{conn.name[:100]} #{conn.pk}"
        channel = SalesChannel.objects.create(
            brand_id=conn.brand_id,
            platform_code=conn.platform,
            name=name,
            is_marketplace=conn.platform in MARKETPLACES,
        )
        SalesChannel.objects.filter(pk=channel.pk).update(created_at=conn.created_at)
        HistoricalSalesChannel.objects.create(
            id=channel.pk,
            brand_id=channel.brand_id,
            platform_code=channel.platform_code,
            name=channel.name,
            is_marketplace=channel.is_marketplace,
            sla_window_hours=None,
            created_at=conn.created_at,
            history_date=now,
            history_type="+",
            history_change_reason=f"made from connection {conn.pk} (the sales channel became a core model)",
        )
        Connection.objects.filter(pk=conn.pk).update(channel=channel)
        HistoricalConnection.objects.filter(id=conn.pk).update(channel_id=channel.pk)


def channels_removed(apps, schema_editor):
    Connection = apps.get_model("integrations", "Connection")
    SalesChannel = apps.get_model("warehouse", "SalesChannel")
    HistoricalSalesChannel = apps.get_model("warehouse", "HistoricalSalesChannel")
    ids = list(Connection.objects.filter(channel__isnull=False).values_list("channel_id", flat=True))
    Connection.objects.update(channel=None)
    HistoricalSalesChannel.objects.filter(id__in=ids).delete()
    SalesChannel.objects.filter(pk__in=ids).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("integrations", "0009_metric_rollups_and_trouble_index"),
        ("warehouse", "0007_sales_channel"),
    ]

    operations = [
        migrations.AddField(
            model_name="connection",
            name="channel",
            field=models.OneToOneField(
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="connection",
                to="warehouse.saleschannel",
            ),
        ),
        migrations.AddField(
            model_name="historicalconnection",
            name="channel",
            field=models.ForeignKey(
                blank=True,
                db_constraint=False,
                null=True,
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="+",
                to="warehouse.saleschannel",
            ),
        ),
        migrations.RunPython(channel_per_connection, channels_removed),
    ]
