"""Create the role groups (warehouse/roles.py). Permissions are normally created after all migrations ran
(post_migrate), so they are created here first; `manage.py sync_roles` re-applies the roles at any time."""

from django.contrib.auth.management import create_permissions
from django.db import migrations


def sync(apps, schema_editor):
    from django.apps import apps as global_apps

    from warehouse.roles import roles_sync

    # Every installed model's permissions, including apps whose tables come later: the rows only need
    # django_content_type and auth_permission, which exist by now.
    for app_config in global_apps.get_app_configs():
        create_permissions(app_config, verbosity=0)
    roles_sync()


class Migration(migrations.Migration):
    dependencies = [
        ("warehouse", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(sync, migrations.RunPython.noop)]
