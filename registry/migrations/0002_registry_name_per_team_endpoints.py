"""Model names unique per team ignoring case (per owner without a team) instead of globally;
endpoints owned by the model that first served them.

The old global unique index on `name` goes with the AlterField. Names that differ only in case
inside one team could exist (the old rule was case-sensitive in the database); those after the
first get " (<id>)" appended before the new constraint is added. Every existing
(environment, endpoint) pair becomes an Endpoint of the model whose deployment came first.
"""

import django.db.models.deletion
import django.db.models.functions.text
from django.conf import settings
from django.db import migrations, models


def rename_case_duplicates(apps, schema_editor):
    RegisteredModel = apps.get_model("registry", "RegisteredModel")
    seen: set[tuple] = set()
    for model in RegisteredModel.objects.order_by("pk"):
        key = (model.name.lower(), model.team, model.owner_id if not model.team else None)
        if key in seen:
            model.name = f"{model.name[: 120 - len(str(model.pk)) - 3]} ({model.pk})"
            model.save(update_fields=["name"])
        seen.add(key)


def endpoints_from_deployments(apps, schema_editor):
    Deployment = apps.get_model("registry", "Deployment")
    Endpoint = apps.get_model("registry", "Endpoint")
    owners: dict[tuple[str, str], int] = {}
    rows = Deployment.objects.order_by("deployed_at", "pk").values_list(
        "environment", "endpoint", "version__model_id"
    )
    for environment, endpoint, model_id in rows:
        owners.setdefault((environment, endpoint), model_id)
    Endpoint.objects.bulk_create(
        Endpoint(environment=env, name=name, model_id=model_id)
        for (env, name), model_id in owners.items()
    )


class Migration(migrations.Migration):

    dependencies = [
        ('registry', '0001_initial'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='Endpoint',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('environment', models.CharField(choices=[('dev', 'Development'), ('staging', 'Staging'), ('production', 'Production')], max_length=20)),
                ('name', models.CharField(max_length=300)),
                ('created_at', models.DateTimeField(auto_now_add=True)),
                ('updated_at', models.DateTimeField(auto_now=True)),
            ],
            options={
                'ordering': ['environment', 'name'],
            },
        ),
        migrations.AlterField(
            model_name='registeredmodel',
            name='name',
            field=models.CharField(max_length=120),
        ),
        migrations.RunPython(rename_case_duplicates, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name='registeredmodel',
            constraint=models.UniqueConstraint(django.db.models.functions.text.Lower('name'), models.F('team'), condition=models.Q(('team', ''), _negated=True), name='model_name_per_team', violation_error_message='this team already has a model with this name'),
        ),
        migrations.AddConstraint(
            model_name='registeredmodel',
            constraint=models.UniqueConstraint(django.db.models.functions.text.Lower('name'), models.F('owner'), condition=models.Q(('team', '')), name='model_name_per_owner_without_team', violation_error_message='you already have a model with this name'),
        ),
        migrations.AddField(
            model_name='endpoint',
            name='model',
            field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='endpoints', to='registry.registeredmodel'),
        ),
        migrations.AddConstraint(
            model_name='endpoint',
            constraint=models.UniqueConstraint(fields=('environment', 'name'), name='endpoint_per_environment'),
        ),
        migrations.RunPython(endpoints_from_deployments, migrations.RunPython.noop),
    ]
