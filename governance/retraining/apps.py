from django.apps import AppConfig


class RetrainingConfig(AppConfig):
    name = "governance.retraining"
    label = "retraining"
    verbose_name = "Retraining"

    def ready(self) -> None:
        # Monitoring runs background jobs but may not import governance: register here.
        from governance.retraining import jobs
        from monitoring.jobs.kinds import MONITORING, register

        register(jobs.CHECK_KIND, jobs.run_check, queue=MONITORING)
        register(jobs.RUN_KIND, jobs.run_retraining, queue=MONITORING)
