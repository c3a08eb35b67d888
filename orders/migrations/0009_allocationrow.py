import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    """Allocation rows (`orders.models.allocation`), beside `Order.allocated_lines` until 0010 fills them from it."""

    dependencies = [
        ("inventory", "0005_historicalsku_country_of_origin_and_more"),
        ("orders", "0008_historicalparcel_parcel"),
        ("warehouse", "0008_alter_exceptionitem_kind_and_more"),
    ]

    operations = [
        migrations.CreateModel(
            name="AllocationRow",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("quantity", models.PositiveIntegerField()),
                (
                    "source",
                    models.CharField(
                        choices=[
                            ("stock", "Free stock"),
                            ("contract", "Contract reservation"),
                            ("preorder_claim", "Pre-order claim (its scheduled inbound, received)"),
                        ],
                        default="stock",
                        max_length=20,
                    ),
                ),
                (
                    "event_id",
                    models.CharField(help_text="The inventory ledger event that allocated these units", max_length=200),
                ),
                (
                    "facility",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT, related_name="+", to="warehouse.facility"
                    ),
                ),
                (
                    "line",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.RESTRICT,
                        related_name="allocation_rows",
                        to="orders.orderline",
                    ),
                ),
                (
                    "order",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE, related_name="allocation_rows", to="orders.order"
                    ),
                ),
                (
                    "sku",
                    models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name="+", to="inventory.sku"),
                ),
            ],
            options={
                "ordering": ["order_id", "facility_id", "line_id", "id"],
                "indexes": [models.Index(fields=["facility", "sku"], name="allocation_row_stock")],
                "constraints": [
                    models.CheckConstraint(
                        condition=models.Q(("quantity__gte", 1)), name="allocation_row_quantity_positive"
                    )
                ],
            },
        ),
    ]
