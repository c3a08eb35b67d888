"""Which orders are marketplace SLA is the channel's to say (issue 12), not a list of platform names in the policy:
`prime_platforms` becomes `SalesChannel.is_marketplace` (a marketplace's Prime/SLA-flagged orders), and
`window_platforms` + `marketplace_window_hours` become `SalesChannel.sla_window_hours` (its orders due inside the
window). Each brand's channels take what its policy said (a brand without a policy row had the defaults: Prime on
amazon, the 72-hour window on tiktok; migrations may name platforms, nothing else does).

Reversible: going back restores each policy's lists from its brand's channels (and the 72-hour default window)."""

from django.db import migrations, models

DEFAULT_PRIME, DEFAULT_WINDOW, DEFAULT_HOURS = ["amazon"], ["tiktok"], 72


def sla_to_channels(apps, schema_editor):
    AllocationPolicy = apps.get_model("allocation", "AllocationPolicy")
    SalesChannel = apps.get_model("warehouse", "SalesChannel")
    policies = {p.brand_id: p for p in AllocationPolicy.objects.all()}
    for channel in SalesChannel.objects.order_by("pk"):
        policy = policies.get(channel.brand_id)
        prime = policy.prime_platforms if policy is not None else DEFAULT_PRIME
        window = policy.window_platforms if policy is not None else DEFAULT_WINDOW
        hours = policy.marketplace_window_hours if policy is not None else DEFAULT_HOURS
        changes = {}
        if channel.platform_code in (prime or []) and not channel.is_marketplace:
            changes["is_marketplace"] = True
        if channel.platform_code in (window or []) and channel.sla_window_hours is None:
            changes["sla_window_hours"] = hours
        if changes:
            SalesChannel.objects.filter(pk=channel.pk).update(**changes)


def sla_to_policies(apps, schema_editor):
    AllocationPolicy = apps.get_model("allocation", "AllocationPolicy")
    SalesChannel = apps.get_model("warehouse", "SalesChannel")
    for policy in AllocationPolicy.objects.all():
        channels = SalesChannel.objects.filter(brand_id=policy.brand_id)
        windows = channels.filter(sla_window_hours__isnull=False)
        policy.prime_platforms = sorted(set(channels.filter(is_marketplace=True).values_list("platform_code", flat=True)))
        policy.window_platforms = sorted(set(windows.values_list("platform_code", flat=True)))
        policy.marketplace_window_hours = windows.values_list("sla_window_hours", flat=True).first() or DEFAULT_HOURS
        policy.save(update_fields=["prime_platforms", "window_platforms", "marketplace_window_hours"])


class Migration(migrations.Migration):
    dependencies = [
        ("allocation", "0005_adjust_own_policy"),
        ("integrations", "0010_connection_channel"),
        ("warehouse", "0007_sales_channel"),
    ]

    operations = [
        migrations.RunPython(sla_to_channels, sla_to_policies),
        migrations.RemoveField(model_name="allocationpolicy", name="marketplace_window_hours"),
        migrations.RemoveField(model_name="allocationpolicy", name="prime_platforms"),
        migrations.RemoveField(model_name="allocationpolicy", name="window_platforms"),
        migrations.RemoveField(model_name="historicalallocationpolicy", name="marketplace_window_hours"),
        migrations.RemoveField(model_name="historicalallocationpolicy", name="prime_platforms"),
        migrations.RemoveField(model_name="historicalallocationpolicy", name="window_platforms"),
        migrations.AlterField(
            model_name="cutoff",
            name="hard_deadline",
            field=models.BooleanField(
                default=False,
                help_text="Handling time is an account-health contract (always true for a marketplace channel)",
            ),
        ),
        migrations.AlterField(
            model_name="cutoff",
            name="platform",
            field=models.CharField(
                blank=True, help_text="The platform code of the brand's sales channel; blank = default", max_length=20
            ),
        ),
        migrations.AlterField(
            model_name="historicalcutoff",
            name="hard_deadline",
            field=models.BooleanField(
                default=False,
                help_text="Handling time is an account-health contract (always true for a marketplace channel)",
            ),
        ),
        migrations.AlterField(
            model_name="historicalcutoff",
            name="platform",
            field=models.CharField(
                blank=True, help_text="The platform code of the brand's sales channel; blank = default", max_length=20
            ),
        ),
    ]
