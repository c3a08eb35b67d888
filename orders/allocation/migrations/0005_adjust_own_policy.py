"""The brand's own permission to adjust its policy (the page /allocation-policy/), granted to the `brand` role: the
permission row is created here (normally post_migrate does it) so the roles can be synced in the same migration."""

from django.contrib.auth.management import create_permissions
from django.db import migrations


def sync(apps, schema_editor):
    from django.apps import apps as global_apps

    from warehouse.roles import roles_sync

    for app_config in global_apps.get_app_configs():
        create_permissions(app_config, verbosity=0)
    roles_sync()


class Migration(migrations.Migration):
    dependencies = [
        ("allocation", "0004_preorder_stock_marks_dirty"),
    ]

    operations = [
        migrations.AlterModelOptions(
            name="allocationpolicy",
            options={
                "permissions": [("adjust_own_policy", "Can adjust the allocation policy of one's own brands")],
                "verbose_name_plural": "allocation policies",
            },
        ),
        migrations.RunPython(sync, migrations.RunPython.noop),
    ]
