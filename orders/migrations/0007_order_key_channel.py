"""The order key becomes (channel, platform order id) (issue 12); a manual or file order keeps (brand, source, order
id). `Order.connection` and the copied `Order.platform` go: the platform is the channel's (`Order.platform_code`), and
orders no longer know integrations.

Reversible: going back re-adds both columns, fills them from the channel, and restores the old key."""

from django.db import migrations, models
from django.db.models import OuterRef, Subquery


def connection_and_platform_back(apps, schema_editor):
    Connection = apps.get_model("integrations", "Connection")
    SalesChannel = apps.get_model("warehouse", "SalesChannel")
    for model in (apps.get_model("orders", "Order"), apps.get_model("orders", "HistoricalOrder")):
        model.objects.filter(channel_id__isnull=False).update(
            connection_id=Subquery(Connection.objects.filter(channel_id=OuterRef("channel_id")).values("pk")[:1]),
            platform=Subquery(SalesChannel.objects.filter(pk=OuterRef("channel_id")).values("platform_code")[:1]),
        )


class Migration(migrations.Migration):
    dependencies = [
        ("orders", "0006_order_channel"),
    ]

    operations = [
        migrations.RemoveConstraint(model_name="order", name="order_unique_per_connection"),
        migrations.RemoveConstraint(model_name="order", name="order_unique_per_brand_source"),
        migrations.AddConstraint(
            model_name="order",
            constraint=models.UniqueConstraint(
                condition=models.Q(("channel__isnull", False)),
                fields=("channel", "platform_order_id"),
                name="order_unique_per_channel",
                violation_error_message="This channel already has an order with this id.",
            ),
        ),
        migrations.AddConstraint(
            model_name="order",
            constraint=models.UniqueConstraint(
                condition=models.Q(("channel__isnull", True), models.Q(("platform_order_id", ""), _negated=True)),
                fields=("brand", "source", "platform_order_id"),
                name="order_unique_per_brand_source",
                violation_error_message="This brand already has an order with this id from this source.",
            ),
        ),
        migrations.RunPython(migrations.RunPython.noop, connection_and_platform_back),
        migrations.RemoveField(model_name="historicalorder", name="connection"),
        migrations.RemoveField(model_name="historicalorder", name="platform"),
        migrations.RemoveField(model_name="order", name="connection"),
        migrations.RemoveField(model_name="order", name="platform"),
    ]
