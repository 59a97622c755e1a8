from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("monitoring", "0005_activity_overrides_canary"),
    ]

    operations = [
        migrations.AddField(
            model_name="referenceprofile",
            name="sample",
            field=models.JSONField(blank=True, default=list),
        ),
    ]
