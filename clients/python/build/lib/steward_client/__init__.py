"""steward-client: register models, log predictions and gate CI on approvals in Steward."""

from steward_client.client import Steward
from steward_client.errors import (
    BadRequest,
    ChecksumMismatch,
    Conflict,
    Forbidden,
    NotFound,
    PayloadTooLarge,
    ServerError,
    StewardError,
    Unauthorized,
    Unreachable,
)
from steward_client.logger import LoggerStats, PredictionLogger
from steward_client.serving import Exchange, Logged, StewardMiddleware, log_predictions

__all__ = [
    "BadRequest",
    "ChecksumMismatch",
    "Conflict",
    "Exchange",
    "Forbidden",
    "Logged",
    "LoggerStats",
    "NotFound",
    "PayloadTooLarge",
    "PredictionLogger",
    "ServerError",
    "Steward",
    "StewardError",
    "StewardMiddleware",
    "Unauthorized",
    "Unreachable",
    "log_predictions",
]
__version__ = "0.1.0"
