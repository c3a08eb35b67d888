"""The audit log is append-only at the database level: PostgreSQL refuses UPDATE and DELETE on it.

Hand-written. TRUNCATE is left to the table owner (Django's test runner empties tables with it); rows are refused
UPDATE and DELETE one by one, which is what an application or an operator's SQL would do. SQLite (the one-process demo) has no such trigger; the model's rule still holds there."""

from django.db import migrations

TABLE = "integrations_auditrecord"

CREATE = f"""
CREATE OR REPLACE FUNCTION integrations_audit_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'the audit log is append-only: % on % is refused', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
DROP TRIGGER IF EXISTS audit_append_only ON {TABLE};
CREATE TRIGGER audit_append_only BEFORE UPDATE OR DELETE ON {TABLE}
    FOR EACH ROW EXECUTE FUNCTION integrations_audit_append_only();
"""

DROP = f"""
DROP TRIGGER IF EXISTS audit_append_only ON {TABLE};
DROP TRIGGER IF EXISTS audit_no_truncate ON {TABLE};
DROP FUNCTION IF EXISTS integrations_audit_append_only();
"""


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE, params=None)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP, params=None)


class Migration(migrations.Migration):
    dependencies = [("integrations", "0001_initial")]

    operations = [migrations.RunPython(forwards, backwards)]
