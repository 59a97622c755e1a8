"""Alert deliveries take the fields of the one outbound sender's delivery row
(governance.outbound.models.OutboundDelivery): a state instead of `ok`; rule and delivery URLs
get the outbound validator."""

import django.utils.timezone
from django.db import migrations, models

import governance.outbound.addresses


def ok_to_state(apps, schema_editor):
    delivery = apps.get_model("monitoring", "AlertDelivery")
    delivery.objects.filter(ok=True).update(state="delivered", next_attempt_at=None)
    waiting = models.Q(ok=False, next_attempt_at__isnull=False, payload__isnull=False)
    delivery.objects.filter(waiting).update(state="pending")
    delivery.objects.filter(ok=False).exclude(waiting).update(state="failed", next_attempt_at=None)


def state_to_ok(apps, schema_editor):
    apps.get_model("monitoring", "AlertDelivery").objects.filter(state="delivered").update(ok=True)


class Migration(migrations.Migration):
    dependencies = [
        ("monitoring", "0008_fairness"),
    ]

    operations = [
        migrations.AddField(
            model_name="alertdelivery",
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
        migrations.AddField(
            model_name="alertdelivery",
            name="claimed_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="alertdelivery",
            name="delivered_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.RunPython(ok_to_state, state_to_ok),
        migrations.RemoveField(model_name="alertdelivery", name="ok"),
        migrations.AlterField(
            model_name="alertdelivery",
            name="attempts",
            field=models.PositiveIntegerField(default=0),
        ),
        migrations.AlterField(
            model_name="alertdelivery",
            name="next_attempt_at",
            field=models.DateTimeField(
                blank=True, db_index=True, default=django.utils.timezone.now, null=True
            ),
        ),
        migrations.AlterField(
            model_name="alertdelivery",
            name="status_code",
            field=models.PositiveIntegerField(blank=True, null=True),
        ),
        migrations.AlterField(
            model_name="alertdelivery",
            name="url",
            field=models.URLField(validators=[governance.outbound.addresses.validate_outbound_url]),
        ),
        migrations.AlterField(
            model_name="alertrule",
            name="webhook_url",
            field=models.URLField(
                blank=True, validators=[governance.outbound.addresses.validate_outbound_url]
            ),
        ),
    ]
