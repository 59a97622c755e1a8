from django.apps import AppConfig


class ReportsConfig(AppConfig):
    name = "governance.reports"
    label = "reports"
    verbose_name = "Signed reports"

    def ready(self) -> None:
        # Monitoring runs background jobs but may not import governance: register here.
        from governance.approvals.choices import TEST_LOG_JOB
        from governance.reports import jobs, testlog
        from monitoring.jobs.kinds import REPORTS, register

        register(jobs.KIND, jobs.run, queue=REPORTS)
        register(TEST_LOG_JOB, testlog.run, queue=REPORTS)
