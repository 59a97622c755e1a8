from django.apps import AppConfig
from django.db.models.signals import post_migrate


class MlflowBridgeConfig(AppConfig):
    name = "governance.mlflow"
    # Not "mlflow": that is the client package's name.
    label = "mlflow_bridge"
    verbose_name = "MLflow bridge"

    def ready(self) -> None:
        # Monitoring runs background jobs but may not import governance: register here.
        from governance.mlflow import jobs
        from governance.mlflow.connections import ensure_admin_permission
        from monitoring.jobs.kinds import INTEGRATIONS, register

        register(jobs.KIND, jobs.run, queue=INTEGRATIONS)
        register(jobs.ALIAS_KIND, jobs.run_alias_push, queue=INTEGRATIONS)
        post_migrate.connect(
            ensure_admin_permission, sender=self, dispatch_uid="mlflow-admin-permission"
        )
