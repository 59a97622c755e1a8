from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("monitoring", "0007_alert_rule_window"),
    ]

    operations = [
        migrations.AddField(
            model_name="monitoringsettings",
            name="sensitive_attribute",
            field=models.CharField(blank=True, max_length=200),
        ),
        migrations.AddField(
            model_name="dailyperformance",
            name="fairness",
            field=models.JSONField(blank=True, default=dict),
        ),
    ]
