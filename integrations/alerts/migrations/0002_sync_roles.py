"""Managers acknowledge and review incidents, administrators tune alert rules, now rather than at the next
`sync_roles` (see warehouse 0002)."""

from django.db import migrations


def sync_roles(apps, schema_editor):
    from django.apps import apps as global_apps
    from django.contrib.auth.management import create_permissions

    from warehouse.roles import roles_sync

    create_permissions(global_apps.get_app_config("alerts"), verbosity=0)
    roles_sync()


class Migration(migrations.Migration):
    dependencies = [("alerts", "0001_initial")]

    operations = [migrations.RunPython(sync_roles, migrations.RunPython.noop)]
