from django.urls import path

from portal import deployment_edit, inventory_edit
from portal import registry_edit as edit
from portal import registry_views as views

app_name = "registry"
urlpatterns = [
    path("models/", views.model_list, name="model-list"),
    # Before the slug route: a slug always ends in a random suffix, so no model is "new".
    path("models/new/", edit.model_new, name="model-new"),
    path("models/<slug:slug>/", views.model_detail, name="model-detail"),
    path("models/<slug:slug>/edit/", edit.model_edit, name="model-edit"),
    path(
        "models/<slug:slug>/inventory/",
        inventory_edit.model_inventory_edit,
        name="model-inventory-edit",
    ),
    path("models/<slug:slug>/versions/new/", edit.version_new, name="version-new"),
    path("models/<slug:slug>/v<int:number>/", views.version_detail, name="version-detail"),
    path(
        "models/<slug:slug>/v<int:number>/artifacts/new/",
        edit.artifact_upload,
        name="artifact-upload",
    ),
    path(
        "models/<slug:slug>/v<int:number>/artifacts/link/",
        edit.artifact_link,
        name="artifact-link",
    ),
    path(
        "models/<slug:slug>/v<int:number>/datasets/new/",
        edit.dataset_upload,
        name="dataset-upload",
    ),
    path("models/<slug:slug>/v<int:number>/lineage/", edit.version_lineage, name="version-lineage"),
    path("models/<slug:slug>/v<int:number>/archive/", edit.version_archive, name="version-archive"),
    path(
        "models/<slug:slug>/v<int:number>/deploy/",
        deployment_edit.version_deploy,
        name="version-deploy",
    ),
    path("datasets/<int:pk>/", views.dataset_detail, name="dataset-detail"),
    path("deployments/", views.deployment_list, name="deployment-list"),
    path("deployments/<int:pk>/", views.deployment_detail, name="deployment-detail"),
    path(
        "deployments/<int:pk>/canary/",
        deployment_edit.deployment_canary,
        name="deployment-canary",
    ),
    path(
        "deployments/<int:pk>/rollback/",
        deployment_edit.deployment_rollback,
        name="deployment-rollback",
    ),
    path(
        "deployments/<int:pk>/retire/", deployment_edit.deployment_retire, name="deployment-retire"
    ),
    path(
        "deployments/<int:pk>/settings/",
        deployment_edit.deployment_settings,
        name="deployment-settings",
    ),
]
