from monitoring.models.jobs import JobRun

__all__ = ["JobRun"]
