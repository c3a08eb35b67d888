"""The sales channel becomes a core model (issue 12): brand, platform code, name, marketplace or not, SLA window.
Integrations' connections and the orders point at it from their own migrations (integrations 0006, orders 0006)."""

import django.db.models.deletion
import simple_history.models
from django.conf import settings
from django.db import migrations, models


def sync_roles(apps, schema_editor):
    """Roles see (and administrators edit) the channels now, not at the next `sync_roles` (see warehouse 0002)."""
    from django.apps import apps as global_apps
    from django.contrib.auth.management import create_permissions

    from warehouse.roles import roles_sync

    create_permissions(global_apps.get_app_config("warehouse"), verbosity=0)
    roles_sync()


class Migration(migrations.Migration):

    dependencies = [
        ('warehouse', '0006_exception_kinds_merged'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='HistoricalSalesChannel',
            fields=[
                ('id', models.BigIntegerField(auto_created=True, blank=True, db_index=True, verbose_name='ID')),
                ('platform_code', models.CharField(help_text="The platform's code in the integrations registry", max_length=20)),
                ('name', models.CharField(max_length=120)),
                ('is_marketplace', models.BooleanField(default=False, help_text='A marketplace (account-health metrics): its handling time is a hard deadline, and its Prime/SLA-flagged orders are served as marketplace SLA')),
                ('sla_window_hours', models.PositiveSmallIntegerField(blank=True, help_text="The channel's ship-within window in hours (e.g. 72): its orders due inside it are served as marketplace SLA. Blank: no window", null=True)),
                ('created_at', models.DateTimeField(blank=True, editable=False)),
                ('history_id', models.AutoField(primary_key=True, serialize=False)),
                ('history_date', models.DateTimeField(db_index=True)),
                ('history_change_reason', models.TextField(null=True)),
                ('history_type', models.CharField(choices=[('+', 'Created'), ('~', 'Changed'), ('-', 'Deleted')], max_length=1)),
                ('brand', models.ForeignKey(blank=True, db_constraint=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='warehouse.brand')),
                ('history_user', models.ForeignKey(null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
            ],
            options={
                'verbose_name': 'historical sales channel',
                'verbose_name_plural': 'historical sales channels',
                'ordering': ('-history_date', '-history_id'),
                'get_latest_by': ('history_date', 'history_id'),
            },
            bases=(simple_history.models.HistoricalChanges, models.Model),
        ),
        migrations.CreateModel(
            name='SalesChannel',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('platform_code', models.CharField(help_text="The platform's code in the integrations registry", max_length=20)),
                ('name', models.CharField(max_length=120)),
                ('is_marketplace', models.BooleanField(default=False, help_text='A marketplace (account-health metrics): its handling time is a hard deadline, and its Prime/SLA-flagged orders are served as marketplace SLA')),
                ('sla_window_hours', models.PositiveSmallIntegerField(blank=True, help_text="The channel's ship-within window in hours (e.g. 72): its orders due inside it are served as marketplace SLA. Blank: no window", null=True)),
                ('created_at', models.DateTimeField(auto_now_add=True)),
                ('brand', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='sales_channels', to='warehouse.brand')),
            ],
            options={
                'ordering': ['brand_id', 'name'],
                'constraints': [models.UniqueConstraint(fields=('brand', 'platform_code', 'name'), name='one_sales_channel_per_brand_platform_name', violation_error_message='This brand already has a channel of this name on this platform.'), models.CheckConstraint(condition=models.Q(('sla_window_hours__isnull', True), ('sla_window_hours__gte', 1), _connector='OR'), name='sales_channel_sla_window_positive', violation_error_message='The SLA window must be at least 1 hour.')],
            },
        ),
        migrations.RunPython(sync_roles, migrations.RunPython.noop),
    ]
