"""A route's legs keep only what routing decided that the allocation rows cannot say: the facilities, in leg order.
Each leg's lines are the order's allocation rows at that facility (`OrderRoute.leg_lines`), so the `"lines"` copy goes
from every route's legs.

In batches of BATCH route ids, each its own transaction (the migration is not atomic), and a rerun only touches the
routes whose legs still have lines. On PostgreSQL one `UPDATE` per batch strips the key in SQL (`STRIP_SQL`); other
databases (the demo's SQLite) take the Python path. The history keeps each old decision as it was. Backwards nothing
needs doing: the services read a plan's lines only in the transaction that routed it, never from the route. Timed by
`bench/allocation_rows_migration.py` with the orders' migrations: 1,000,000 routes in 16.3 s (load average 6–9), and
`orders.0014` checking 1,000,000 shipments and dropping their column in 3.9 s."""

from django.db import migrations, models, transaction

BATCH = 50_000

STRIP_SQL = """
UPDATE allocation_orderroute r
SET legs = (SELECT jsonb_agg(e - 'lines' ORDER BY n) FROM jsonb_array_elements(r.legs) WITH ORDINALITY j(e, n))
WHERE r.id > %(low)s AND r.id <= %(high)s AND jsonb_typeof(r.legs) = 'array'
  AND EXISTS (SELECT 1 FROM jsonb_array_elements(r.legs) e WHERE jsonb_typeof(e) = 'object' AND e ? 'lines')
"""


def legs_without_lines(apps, schema_editor):
    OrderRoute = apps.get_model("allocation", "OrderRoute")
    alias = schema_editor.connection.alias
    if schema_editor.connection.vendor == "postgresql":
        with schema_editor.connection.cursor() as cursor:
            cursor.execute("SELECT coalesce(min(id), 0), coalesce(max(id), 0) FROM allocation_orderroute")
            first, last = cursor.fetchone()
        low = first - 1
        while low < last:
            with transaction.atomic(using=alias), schema_editor.connection.cursor() as cursor:
                cursor.execute(STRIP_SQL, {"low": low, "high": low + BATCH})
            low += BATCH
        return
    last = 0
    while True:
        with transaction.atomic(using=alias):
            batch = list(OrderRoute.objects.filter(pk__gt=last).order_by("pk").only("pk", "legs")[:BATCH])
            if not batch:
                return
            last = batch[-1].pk
            changed = [route for route in batch if any(isinstance(leg, dict) and "lines" in leg for leg in route.legs)]
            for route in changed:
                route.legs = [
                    {key: value for key, value in leg.items() if key != "lines"} if isinstance(leg, dict) else leg
                    for leg in route.legs
                ]
            OrderRoute.objects.bulk_update(changed, ["legs"])


class Migration(migrations.Migration):
    atomic = False  # one transaction per batch (see the docstring)

    dependencies = [
        ("allocation", "0009_preorder_schedule_on_line"),
    ]

    operations = [
        migrations.RunPython(legs_without_lines, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="historicalorderroute",
            name="legs",
            field=models.JSONField(default=list, help_text='[{"facility": code, "facility_id": id}, ...] in leg order'),
        ),
        migrations.AlterField(
            model_name="orderroute",
            name="legs",
            field=models.JSONField(default=list, help_text='[{"facility": code, "facility_id": id}, ...] in leg order'),
        ),
    ]
