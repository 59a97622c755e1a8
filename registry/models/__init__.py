from registry.models.artifact import Artifact
from registry.models.dataset import Dataset
from registry.models.deployment import Deployment
from registry.models.endpoint import Endpoint
from registry.models.registered_model import (
    RegisteredModel,
    RegisteredModelGroupPermission,
    RegisteredModelUserPermission,
)
from registry.models.version import ModelVersion

__all__ = [
    "Artifact",
    "Dataset",
    "Deployment",
    "Endpoint",
    "ModelVersion",
    "RegisteredModel",
    "RegisteredModelGroupPermission",
    "RegisteredModelUserPermission",
]
