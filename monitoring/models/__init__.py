from monitoring.models.ingestion import EventStatus, GroundTruth, PredictionEvent
from monitoring.models.jobs import JobRun
from monitoring.models.rollups import DriftResult, HourlyHealth, HourlySummary, ReferenceProfile

__all__ = [
    "DriftResult",
    "EventStatus",
    "GroundTruth",
    "HourlyHealth",
    "HourlySummary",
    "JobRun",
    "PredictionEvent",
    "ReferenceProfile",
]
