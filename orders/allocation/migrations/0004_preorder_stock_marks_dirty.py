"""Pre-order stock is published too (virtual units: preorder_limit − preordered of open inbound): when an inbound is
scheduled, claimed, given back, re-limited or received, its SKU is marked dirty for the publisher in the same
transaction, as the movement trigger of publishing 0002 does for stock. Hand-written, so no write path can skip it."""

from django.db import migrations

VIRTUAL_CHANGED = (
    "NEW.preorder_limit - NEW.preordered <> OLD.preorder_limit - OLD.preordered OR NEW.received <> OLD.received"
)

PG_CREATE = f"""
CREATE OR REPLACE FUNCTION allocation_inbound_mark_dirty() RETURNS trigger AS $$
BEGIN
    INSERT INTO publishing_dirtystock (sku_id, marked_at, version) VALUES (NEW.sku_id, now(), 1)
    ON CONFLICT (sku_id) DO UPDATE SET version = publishing_dirtystock.version + 1, marked_at = now();
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
DROP TRIGGER IF EXISTS allocation_inbound_insert_dirty ON allocation_scheduledinbound;
CREATE TRIGGER allocation_inbound_insert_dirty AFTER INSERT ON allocation_scheduledinbound
    FOR EACH ROW WHEN (NEW.preorder_limit > 0) EXECUTE FUNCTION allocation_inbound_mark_dirty();
DROP TRIGGER IF EXISTS allocation_inbound_update_dirty ON allocation_scheduledinbound;
CREATE TRIGGER allocation_inbound_update_dirty AFTER UPDATE ON allocation_scheduledinbound
    FOR EACH ROW WHEN ({VIRTUAL_CHANGED}) EXECUTE FUNCTION allocation_inbound_mark_dirty();
"""
PG_DROP = """
DROP TRIGGER IF EXISTS allocation_inbound_insert_dirty ON allocation_scheduledinbound;
DROP TRIGGER IF EXISTS allocation_inbound_update_dirty ON allocation_scheduledinbound;
DROP FUNCTION IF EXISTS allocation_inbound_mark_dirty();
"""
SQLITE_UPSERT = """
    INSERT INTO publishing_dirtystock (sku_id, marked_at, version) VALUES (NEW.sku_id, CURRENT_TIMESTAMP, 1)
    ON CONFLICT (sku_id) DO UPDATE SET version = version + 1, marked_at = CURRENT_TIMESTAMP;
"""
SQLITE_CREATE = [
    f"""CREATE TRIGGER IF NOT EXISTS allocation_inbound_insert_dirty AFTER INSERT ON allocation_scheduledinbound
WHEN NEW.preorder_limit > 0 BEGIN {SQLITE_UPSERT} END;""",
    f"""CREATE TRIGGER IF NOT EXISTS allocation_inbound_update_dirty AFTER UPDATE ON allocation_scheduledinbound
WHEN {VIRTUAL_CHANGED} BEGIN {SQLITE_UPSERT} END;""",
]
SQLITE_DROP = [
    "DROP TRIGGER IF EXISTS allocation_inbound_insert_dirty;",
    "DROP TRIGGER IF EXISTS allocation_inbound_update_dirty;",
]


def forward(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(PG_CREATE, params=None)
    elif vendor == "sqlite":
        for statement in SQLITE_CREATE:
            schema_editor.execute(statement, params=None)


def backward(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(PG_DROP, params=None)
    elif vendor == "sqlite":
        for statement in SQLITE_DROP:
            schema_editor.execute(statement, params=None)


class Migration(migrations.Migration):
    dependencies = [("allocation", "0003_preorder_claim"), ("publishing", "0002_dirty_stock_trigger")]

    operations = [migrations.RunPython(forward, backward)]
