from django.apps import AppConfig
from django.db.models.signals import post_migrate


class ApprovalsConfig(AppConfig):
    name = "governance.approvals"
    label = "approvals"
    verbose_name = "Approvals"

    def ready(self) -> None:
        from governance.approvals import revalidation
        from governance.approvals.defaults import ensure_default_policies
        from monitoring.jobs.kinds import register

        # Monitoring runs background jobs but may not import governance: register here.
        register(revalidation.KIND, revalidation.run)

        post_migrate.connect(
            ensure_default_policies, sender=self, dispatch_uid="approvals-default-policies"
        )
