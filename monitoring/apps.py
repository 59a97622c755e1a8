from django.apps import AppConfig


class MonitoringConfig(AppConfig):
    name = "monitoring"
    verbose_name = "Monitoring"

    def ready(self) -> None:
        # The job kinds monitoring runs, and its Celery tasks (they live in monitoring.jobs,
        # where Celery's autodiscovery of `<app>.tasks` does not look).
        from monitoring import drill, integrity
        from monitoring.jobs import beat, kinds, tasks  # noqa: F401
        from monitoring.retention import jobs as retention_jobs
        from monitoring.rollups import jobs as rollup_jobs

        kinds.register(integrity.KIND, integrity.run)
        kinds.register(rollup_jobs.KIND, rollup_jobs.run)
        kinds.register(drill.KIND, drill.run)
        kinds.register(retention_jobs.PARTITIONS_KIND, retention_jobs.run_partitions)
        kinds.register(retention_jobs.RETENTION_KIND, retention_jobs.run_retention)
