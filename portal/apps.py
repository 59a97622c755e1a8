from django.apps import AppConfig
from django.db.models.signals import post_migrate


class PortalConfig(AppConfig):
    name = "portal"
    verbose_name = "Steward portal"

    def ready(self) -> None:
        from portal.accounts.services import ensure_admin_permission
        from portal.security import accounts, lockout

        lockout.connect()
        accounts.connect()
        post_migrate.connect(
            ensure_admin_permission, sender=self, dispatch_uid="portal-admin-permission"
        )
