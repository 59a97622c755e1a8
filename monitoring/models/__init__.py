from monitoring.models.ingestion import EventStatus, GroundTruth, PredictionEvent
from monitoring.models.jobs import JobRun

__all__ = ["EventStatus", "GroundTruth", "JobRun", "PredictionEvent"]
