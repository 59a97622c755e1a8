"""The registry's write services. Each takes the acting user, checks what it may do, writes,
and records an audit entry in the same transaction."""

from registry.services.artifacts import (
    artifact_delete,
    artifact_link,
    artifact_update,
    artifact_upload,
)
from registry.services.datasets import dataset_upload
from registry.services.deployments import (
    deployment_create,
    deployment_retire,
    deployment_rollback,
    endpoint_move,
)
from registry.services.models import (
    model_create,
    model_set_inventory,
    model_set_risk_tier,
    model_set_validation,
    model_update,
)
from registry.services.versions import (
    version_archive,
    version_register,
    version_submit,
    version_transition,
)

__all__ = [
    "artifact_delete",
    "artifact_link",
    "artifact_update",
    "artifact_upload",
    "dataset_upload",
    "deployment_create",
    "deployment_retire",
    "deployment_rollback",
    "endpoint_move",
    "model_create",
    "model_set_inventory",
    "model_set_risk_tier",
    "model_set_validation",
    "model_update",
    "version_archive",
    "version_register",
    "version_submit",
    "version_transition",
]
