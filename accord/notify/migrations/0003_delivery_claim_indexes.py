# Partial indexes for the two halves of dispatch.claim: due pending deliveries, and expired leases.

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("notify", "0002_subscription_immediate_severity"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="delivery",
            index=models.Index(
                condition=models.Q(("status", "pending")), fields=["next_attempt_at", "id"], name="notify_delivery_due"
            ),
        ),
        migrations.AddIndex(
            model_name="delivery",
            index=models.Index(
                condition=models.Q(("status", "sending")), fields=["lease_until", "id"], name="notify_delivery_lease"
            ),
        ),
    ]
