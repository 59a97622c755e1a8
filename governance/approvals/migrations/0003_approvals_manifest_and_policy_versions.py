"""Approvals bind the release manifest; policies are versioned.

`artifact_digest` becomes `manifest_digest` on requests and decisions. Rows that exist now
were bound to the model artifacts only, so they are marked with the legacy digest scheme
(`model-artifacts`) and keep reading as what their reviewers decided; new rows default to
`manifest-v1`. Each existing policy gets its stored version 1.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


def store_policy_versions(apps, schema_editor):
    Policy = apps.get_model("approvals", "ApprovalPolicy")
    PolicyVersion = apps.get_model("approvals", "ApprovalPolicyVersion")
    for policy in Policy.objects.all():
        PolicyVersion.objects.get_or_create(
            risk_tier=policy.risk_tier,
            number=policy.version,
            defaults={
                "snapshot": {
                    "risk_tier": policy.risk_tier,
                    "version": policy.version,
                    "required_groups": sorted(g.name for g in policy.required_groups.all()),
                    "min_approvals": policy.min_approvals,
                    "separation_of_duties": policy.separation_of_duties,
                    "require_readiness": policy.require_readiness,
                    "expiry_days": policy.expiry_days,
                },
                "reason": "policy as it stood when policies became versioned",
            },
        )


class Migration(migrations.Migration):
    dependencies = [
        ("approvals", "0002_webhooks_outbound_delivery"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RenameField("approvalrequest", "artifact_digest", "manifest_digest"),
        migrations.RenameField("approvaldecision", "artifact_digest", "manifest_digest"),
        # Existing rows get the legacy scheme; the default then moves to the manifest.
        migrations.AddField(
            model_name="approvalrequest",
            name="digest_scheme",
            field=models.CharField(default="model-artifacts", max_length=20),
        ),
        migrations.AlterField(
            model_name="approvalrequest",
            name="digest_scheme",
            field=models.CharField(default="manifest-v1", max_length=20),
        ),
        migrations.AddField(
            model_name="approvalrequest",
            name="manifest",
            field=models.JSONField(blank=True, default=dict),
        ),
        migrations.AddField(
            model_name="approvalrequest",
            name="policy_version",
            field=models.PositiveIntegerField(blank=True, null=True),
        ),
        migrations.RemoveConstraint(
            model_name="approvaldecision", name="one_decision_per_reviewer"
        ),
        migrations.AddConstraint(
            model_name="approvaldecision",
            constraint=models.UniqueConstraint(
                fields=("request", "reviewer", "manifest_digest"),
                name="one_decision_per_reviewer_and_manifest",
            ),
        ),
        migrations.AddField(
            model_name="approvalpolicy",
            name="version",
            field=models.PositiveIntegerField(default=1, editable=False),
        ),
        migrations.CreateModel(
            name="ApprovalPolicyVersion",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "risk_tier",
                    models.CharField(
                        choices=[
                            ("low", "Low"),
                            ("medium", "Medium"),
                            ("high", "High"),
                            ("critical", "Critical"),
                        ],
                        max_length=20,
                    ),
                ),
                ("number", models.PositiveIntegerField()),
                ("snapshot", models.JSONField()),
                ("reason", models.TextField(blank=True)),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                (
                    "changed_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={
                "ordering": ["risk_tier", "-number"],
                "constraints": [
                    models.UniqueConstraint(
                        fields=("risk_tier", "number"), name="policy_version_once"
                    )
                ],
            },
        ),
        migrations.AlterField(
            model_name="approvalrequest",
            name="state",
            field=models.CharField(
                choices=[
                    ("pending", "Pending manual approval"),
                    ("approved", "Approved"),
                    ("rejected", "Rejected"),
                    ("withdrawn", "Withdrawn"),
                    ("expired", "Expired"),
                ],
                db_index=True,
                default="pending",
                max_length=20,
            ),
        ),
        migrations.RunPython(store_policy_versions, migrations.RunPython.noop),
    ]
