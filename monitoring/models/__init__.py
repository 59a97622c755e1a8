from monitoring.models.data_quality import HourlyQuality
from monitoring.models.ingestion import (
    DeploymentActivity,
    EventStatus,
    GroundTruth,
    PredictionEvent,
)
from monitoring.models.jobs import JobRun
from monitoring.models.quality import (
    Alert,
    AlertDelivery,
    AlertRule,
    AlertSource,
    AlertState,
    Comparator,
    DailyPerformance,
    DeploymentStatus,
    MonitoringSettings,
    Severity,
)
from monitoring.models.rollups import (
    DriftKind,
    DriftResult,
    HourlyHealth,
    HourlySummary,
    ReferenceChoice,
    ReferenceProfile,
    StaleHour,
)

__all__ = [
    "Alert",
    "AlertDelivery",
    "AlertRule",
    "AlertSource",
    "AlertState",
    "Comparator",
    "DailyPerformance",
    "DeploymentActivity",
    "DeploymentStatus",
    "DriftKind",
    "DriftResult",
    "EventStatus",
    "GroundTruth",
    "HourlyHealth",
    "HourlyQuality",
    "HourlySummary",
    "JobRun",
    "MonitoringSettings",
    "PredictionEvent",
    "ReferenceChoice",
    "ReferenceProfile",
    "Severity",
    "StaleHour",
]
