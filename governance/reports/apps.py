from django.apps import AppConfig


class ReportsConfig(AppConfig):
    name = "governance.reports"
    label = "reports"
    verbose_name = "Signed reports"

    def ready(self) -> None:
        # Monitoring runs background jobs but may not import governance: register here.
        from governance.reports import jobs
        from monitoring.tasks import JOBS

        JOBS[jobs.KIND] = jobs.run
