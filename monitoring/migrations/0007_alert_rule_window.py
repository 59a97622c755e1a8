from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("monitoring", "0006_reference_sample"),
    ]

    operations = [
        migrations.AddField(
            model_name="alertrule",
            name="window_days",
            field=models.PositiveSmallIntegerField(default=1),
        ),
    ]
