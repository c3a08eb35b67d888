"""The connection's brand, platform and name live on its sales channel now (issue 12): the copies here are dropped and
every connection must have its channel. "One connection per shop and platform" can no longer be a table constraint
(the platform is on the channel): `integrations.models.shop_taken_problem` checks it, under a lock in
`services.connection_create`.

Reversible: going back re-adds the columns (nullable first), copies the channel's values back, then restores them."""

import django.db.models.deletion
from django.db import migrations, models


def identity_back(apps, schema_editor):
    Connection = apps.get_model("integrations", "Connection")
    for conn in Connection.objects.select_related("channel").order_by("pk"):
        Connection.objects.filter(pk=conn.pk).update(
            brand_id=conn.channel.brand_id, platform=conn.channel.platform_code, name=conn.channel.name
        )


class Migration(migrations.Migration):
    dependencies = [
        ("integrations", "0010_connection_channel"),
    ]

    operations = [
        migrations.RemoveConstraint(model_name="connection", name="one_connection_per_shop"),
        # Nullable / defaulted before they go, so that going back can re-add them to existing rows and fill them.
        migrations.AlterField(
            model_name="connection",
            name="brand",
            field=models.ForeignKey(
                null=True, on_delete=django.db.models.deletion.PROTECT, related_name="connections", to="warehouse.brand"
            ),
        ),
        migrations.AlterField(
            model_name="connection", name="platform", field=models.CharField(default="", max_length=20)
        ),
        migrations.AlterField(model_name="connection", name="name", field=models.CharField(default="", max_length=120)),
        migrations.AlterField(
            model_name="historicalconnection", name="platform", field=models.CharField(default="", max_length=20)
        ),
        migrations.AlterField(
            model_name="historicalconnection", name="name", field=models.CharField(default="", max_length=120)
        ),
        migrations.RunPython(migrations.RunPython.noop, identity_back),
        migrations.RemoveField(model_name="connection", name="brand"),
        migrations.RemoveField(model_name="connection", name="name"),
        migrations.RemoveField(model_name="connection", name="platform"),
        migrations.RemoveField(model_name="historicalconnection", name="brand"),
        migrations.RemoveField(model_name="historicalconnection", name="name"),
        migrations.RemoveField(model_name="historicalconnection", name="platform"),
        migrations.AlterField(
            model_name="connection",
            name="channel",
            field=models.OneToOneField(
                on_delete=django.db.models.deletion.PROTECT, related_name="connection", to="warehouse.saleschannel"
            ),
        ),
        migrations.AlterModelOptions(
            name="connection",
            options={
                "ordering": ["channel__brand__name", "channel__name"],
                "permissions": [("manage_connection_secrets", "Can set connection credentials and signing secrets")],
            },
        ),
    ]
