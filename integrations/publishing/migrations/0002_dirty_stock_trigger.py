"""Every movement that changes a SKU's sellable number (or completes a cycle count) marks the SKU dirty, in the
same transaction as the movement. Hand-written: a trigger cannot be skipped by bulk inserts or raw SQL.

The upsert *updates* an existing row (version + 1) rather than ignoring it: the row stays locked until the stock
change commits, so a publisher that claims it meanwhile (FOR UPDATE SKIP LOCKED) skips it and publishes it next
cycle, never a number read before the change committed."""

from django.db import migrations

AVAILABLE_CHANGED = (
    "NEW.on_hand_delta - NEW.allocated_delta - NEW.in_pick_delta - NEW.quarantine_delta - NEW.damaged_delta"
    " - NEW.reserved_delta <> 0 OR NEW.kind = 'cycle_count'"
)

PG_CREATE = f"""
CREATE OR REPLACE FUNCTION publishing_mark_dirty() RETURNS trigger AS $$
BEGIN
    INSERT INTO publishing_dirtystock (sku_id, marked_at, version) VALUES (NEW.sku_id, now(), 1)
    ON CONFLICT (sku_id) DO UPDATE SET version = publishing_dirtystock.version + 1, marked_at = now();
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
DROP TRIGGER IF EXISTS publishing_mark_dirty ON inventory_movement;
CREATE TRIGGER publishing_mark_dirty AFTER INSERT ON inventory_movement
    FOR EACH ROW WHEN ({AVAILABLE_CHANGED}) EXECUTE FUNCTION publishing_mark_dirty();
"""
PG_DROP = """
DROP TRIGGER IF EXISTS publishing_mark_dirty ON inventory_movement;
DROP FUNCTION IF EXISTS publishing_mark_dirty();
"""
SQLITE_CREATE = f"""
CREATE TRIGGER IF NOT EXISTS publishing_mark_dirty AFTER INSERT ON inventory_movement
WHEN {AVAILABLE_CHANGED}
BEGIN
    INSERT INTO publishing_dirtystock (sku_id, marked_at, version) VALUES (NEW.sku_id, CURRENT_TIMESTAMP, 1)
    ON CONFLICT (sku_id) DO UPDATE SET version = version + 1, marked_at = CURRENT_TIMESTAMP;
END;
"""
SQLITE_DROP = "DROP TRIGGER IF EXISTS publishing_mark_dirty;"


def forward(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(PG_CREATE, params=None)
    elif vendor == "sqlite":
        schema_editor.execute(SQLITE_CREATE, params=None)


def backward(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(PG_DROP, params=None)
    elif vendor == "sqlite":
        schema_editor.execute(SQLITE_DROP, params=None)


class Migration(migrations.Migration):
    dependencies = [("publishing", "0001_initial"), ("inventory", "0002_movement_append_only")]

    operations = [migrations.RunPython(forward, backward)]
