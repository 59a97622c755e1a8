from django.apps import AppConfig
from django.db.models.signals import post_migrate, pre_save


class RegistryConfig(AppConfig):
    name = "registry"
    verbose_name = "Model registry"

    def ready(self) -> None:
        from registry.limits import check_before_save
        from registry.roles import ensure_roles

        # Caps on free text and lists hold for every model and every save path but bulk ones.
        pre_save.connect(check_before_save, dispatch_uid="steward-limits")
        post_migrate.connect(ensure_roles, sender=self, dispatch_uid="registry-ensure-roles")
