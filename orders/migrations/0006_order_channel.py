"""Orders point at their sales channel (issue 12), no longer at integrations' connection: the channel is filled from
each order's connection (and on the history rows too, so an order's past versions name their channel). The next
migration moves the order key to (channel, platform order id) and drops the connection and the copied platform."""

import django.db.models.deletion
from django.db import migrations, models
from django.db.models import OuterRef, Subquery


def channel_from_connection(apps, schema_editor):
    Connection = apps.get_model("integrations", "Connection")
    for model in (apps.get_model("orders", "Order"), apps.get_model("orders", "HistoricalOrder")):
        channel_of = Connection.objects.filter(pk=OuterRef("connection_id")).values("channel_id")[:1]
        model.objects.filter(connection_id__isnull=False).update(channel_id=Subquery(channel_of))


def connection_from_channel(apps, schema_editor):
    Connection = apps.get_model("integrations", "Connection")
    for model in (apps.get_model("orders", "Order"), apps.get_model("orders", "HistoricalOrder")):
        connection_of = Connection.objects.filter(channel_id=OuterRef("channel_id")).values("pk")[:1]
        model.objects.filter(channel_id__isnull=False).update(connection_id=Subquery(connection_of))


class Migration(migrations.Migration):
    dependencies = [
        ("orders", "0005_merge_0004_held_order_fixes_0004_manual_order_request"),
        ("integrations", "0010_connection_channel"),
        ("warehouse", "0007_sales_channel"),
    ]

    operations = [
        migrations.AddField(
            model_name="historicalorder",
            name="channel",
            field=models.ForeignKey(
                blank=True,
                db_constraint=False,
                help_text="The sales channel it came from; empty for manual and file orders",
                null=True,
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="+",
                to="warehouse.saleschannel",
            ),
        ),
        migrations.AddField(
            model_name="order",
            name="channel",
            field=models.ForeignKey(
                blank=True,
                help_text="The sales channel it came from; empty for manual and file orders",
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="orders",
                to="warehouse.saleschannel",
            ),
        ),
        migrations.RunPython(channel_from_connection, connection_from_channel),
    ]
