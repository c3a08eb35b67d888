from django.db import migrations


class Migration(migrations.Migration):
    """The JSON allocation goes: the allocation rows (filled by 0010) are the order's allocation now."""

    dependencies = [
        ("orders", "0010_allocation_rows_from_json"),
    ]

    operations = [
        migrations.RemoveField(model_name="historicalorder", name="allocated_lines"),
        migrations.RemoveField(model_name="order", name="allocated_lines"),
    ]
