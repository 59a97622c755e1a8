from django.apps import AppConfig


class PortalConfig(AppConfig):
    name = "portal"
    verbose_name = "Steward portal"

    def ready(self) -> None:
        from portal.security import accounts, lockout

        lockout.connect()
        accounts.connect()
