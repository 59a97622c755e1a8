from django.apps import AppConfig
from django.db.models.signals import post_migrate


class RegistryConfig(AppConfig):
    name = "registry"
    verbose_name = "Model registry"

    def ready(self) -> None:
        from registry.roles import ensure_roles

        post_migrate.connect(ensure_roles, sender=self, dispatch_uid="registry-ensure-roles")
