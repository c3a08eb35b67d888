"""Issue 16 §1: the schedule's copied fields go; SKU, facility, date and quantity are its expected inbound line's.
The dirty-stock trigger of 0004 read NEW.sku_id: it is dropped first and recreated to read the line's SKU."""

import django.db.models.deletion
from django.db import migrations, models

LINE_SKU = "(SELECT l.sku_id FROM inventory_expectedinboundline l WHERE l.id = NEW.expected_line_id)"
VIRTUAL_CHANGED = (
    "NEW.preorder_limit - NEW.preordered <> OLD.preorder_limit - OLD.preordered OR NEW.received <> OLD.received"
)
PG_DROP = """
DROP TRIGGER IF EXISTS allocation_inbound_insert_dirty ON allocation_scheduledinbound;
DROP TRIGGER IF EXISTS allocation_inbound_update_dirty ON allocation_scheduledinbound;
"""
PG_CREATE = f"""
CREATE OR REPLACE FUNCTION allocation_inbound_mark_dirty() RETURNS trigger AS $$
BEGIN
    INSERT INTO publishing_dirtystock (sku_id, marked_at, version) VALUES ({LINE_SKU}, now(), 1)
    ON CONFLICT (sku_id) DO UPDATE SET version = publishing_dirtystock.version + 1, marked_at = now();
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER allocation_inbound_insert_dirty AFTER INSERT ON allocation_scheduledinbound
    FOR EACH ROW WHEN (NEW.preorder_limit > 0) EXECUTE FUNCTION allocation_inbound_mark_dirty();
CREATE TRIGGER allocation_inbound_update_dirty AFTER UPDATE ON allocation_scheduledinbound
    FOR EACH ROW WHEN ({VIRTUAL_CHANGED}) EXECUTE FUNCTION allocation_inbound_mark_dirty();
"""
SQLITE_UPSERT = f"""
    INSERT INTO publishing_dirtystock (sku_id, marked_at, version) VALUES ({LINE_SKU}, CURRENT_TIMESTAMP, 1)
    ON CONFLICT (sku_id) DO UPDATE SET version = version + 1, marked_at = CURRENT_TIMESTAMP;
"""
SQLITE_DROP = [
    "DROP TRIGGER IF EXISTS allocation_inbound_insert_dirty;",
    "DROP TRIGGER IF EXISTS allocation_inbound_update_dirty;",
]
SQLITE_CREATE = [
    f"""CREATE TRIGGER IF NOT EXISTS allocation_inbound_insert_dirty AFTER INSERT ON allocation_scheduledinbound
WHEN NEW.preorder_limit > 0 BEGIN {SQLITE_UPSERT} END;""",
    f"""CREATE TRIGGER IF NOT EXISTS allocation_inbound_update_dirty AFTER UPDATE ON allocation_scheduledinbound
WHEN {VIRTUAL_CHANGED} BEGIN {SQLITE_UPSERT} END;""",
]


def _run(schema_editor, pg, sqlite):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(pg, params=None)
    elif vendor == "sqlite":
        for statement in sqlite:
            schema_editor.execute(statement, params=None)


def drop_triggers(apps, schema_editor):
    _run(schema_editor, PG_DROP, SQLITE_DROP)


def create_triggers(apps, schema_editor):
    _run(schema_editor, PG_CREATE, SQLITE_CREATE)


def restore_old_triggers(apps, schema_editor):
    """Backwards: the copied `sku_id` column is back, and so is 0004's trigger reading it."""

    def old(sql):
        return sql.replace(LINE_SKU, "NEW.sku_id")

    _run(schema_editor, old(PG_CREATE), [old(statement) for statement in SQLITE_CREATE])


class Migration(migrations.Migration):
    dependencies = [
        ("allocation", "0008_preorder_schedule_lines"),
        ("inventory", "0006_receiving_and_catalog_ownership"),
    ]

    operations = [
        migrations.RunPython(drop_triggers, restore_old_triggers),
        migrations.AlterModelOptions(
            name="scheduledinbound",
            options={"ordering": ["id"], "verbose_name_plural": "scheduled inbound"},
        ),
        migrations.RemoveConstraint(
            model_name="scheduledinbound",
            name="preorder_limit_within_inbound",
        ),
        migrations.RemoveField(
            model_name="historicalscheduledinbound",
            name="brand",
        ),
        migrations.RemoveField(
            model_name="historicalscheduledinbound",
            name="expected_on",
        ),
        migrations.RemoveField(
            model_name="historicalscheduledinbound",
            name="facility",
        ),
        migrations.RemoveField(
            model_name="historicalscheduledinbound",
            name="quantity",
        ),
        migrations.RemoveField(
            model_name="historicalscheduledinbound",
            name="sku",
        ),
        migrations.RemoveField(
            model_name="scheduledinbound",
            name="brand",
        ),
        migrations.RemoveField(
            model_name="scheduledinbound",
            name="expected_on",
        ),
        migrations.RemoveField(
            model_name="scheduledinbound",
            name="facility",
        ),
        migrations.RemoveField(
            model_name="scheduledinbound",
            name="quantity",
        ),
        migrations.RemoveField(
            model_name="scheduledinbound",
            name="sku",
        ),
        migrations.AlterField(
            model_name="scheduledinbound",
            name="expected_line",
            field=models.OneToOneField(
                help_text="The expected inbound line (ASN/PO) this stock arrives on",
                on_delete=django.db.models.deletion.PROTECT,
                related_name="preorder_schedule",
                to="inventory.expectedinboundline",
            ),
        ),
        migrations.RunPython(create_triggers, drop_triggers),
    ]
