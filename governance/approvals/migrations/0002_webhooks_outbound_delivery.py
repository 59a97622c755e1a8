"""Lifecycle deliveries take the fields of the one outbound sender's delivery row
(governance.outbound.models.OutboundDelivery); endpoint URLs get the outbound validator."""

import django.utils.timezone
from django.db import migrations, models

import governance.outbound.addresses


def settled_rows_are_not_due(apps, schema_editor):
    # The new column filled every row with "now"; only pending rows are due.
    delivery = apps.get_model("approvals", "WebhookDelivery")
    delivery.objects.exclude(state="pending").update(next_attempt_at=None)


class Migration(migrations.Migration):
    dependencies = [
        ("approvals", "0001_initial"),
    ]

    operations = [
        migrations.RenameField(
            model_name="webhookdelivery", old_name="response_status", new_name="status_code"
        ),
        migrations.RenameField(model_name="webhookdelivery", old_name="last_error", new_name="error"),
        migrations.AddField(
            model_name="webhookdelivery",
            name="claimed_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="webhookdelivery",
            name="next_attempt_at",
            field=models.DateTimeField(
                blank=True, db_index=True, default=django.utils.timezone.now, null=True
            ),
        ),
        migrations.RunPython(settled_rows_are_not_due, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="webhookdelivery",
            name="payload",
            field=models.JSONField(blank=True, null=True),
        ),
        migrations.AlterField(
            model_name="webhookdelivery",
            name="state",
            field=models.CharField(
                choices=[
                    ("pending", "Pending"),
                    ("sending", "Sending"),
                    ("delivered", "Delivered"),
                    ("failed", "Failed"),
                ],
                default="pending",
                max_length=20,
            ),
        ),
        migrations.AlterField(
            model_name="webhookendpoint",
            name="events",
            # Empty means every event: the service's full_clean must accept it.
            field=models.JSONField(blank=True, default=list, help_text="Event names; empty means all."),
        ),
        migrations.AlterField(
            model_name="webhookendpoint",
            name="url",
            field=models.URLField(
                max_length=500,
                validators=[governance.outbound.addresses.validate_outbound_url],
            ),
        ),
    ]
