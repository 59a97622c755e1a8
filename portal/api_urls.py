"""REST API v1: every app's endpoints under /api/v1/."""

from django.urls import include, path, register_converter
from rest_framework.routers import DefaultRouter

from governance.lineage.api import LineageEdgeView, LineageGraphView
from portal.security.token_views import TokenDetailView, TokenListView, TokenView
from registry.api.fields import ObjectIdConverter
from registry.api.views import (
    ArtifactViewSet,
    DatasetViewSet,
    DeploymentViewSet,
    ModelVersionViewSet,
    RegisteredModelViewSet,
)

register_converter(ObjectIdConverter, "id")

router = DefaultRouter()
router.register("models", RegisteredModelViewSet, basename="model")
router.register("versions", ModelVersionViewSet, basename="version")
router.register("artifacts", ArtifactViewSet, basename="artifact")
router.register("datasets", DatasetViewSet, basename="dataset")
router.register("deployments", DeploymentViewSet, basename="deployment")

app_name = "api"
urlpatterns = [
    path("auth/token/", TokenView.as_view(), name="token"),
    path("auth/tokens/", TokenListView.as_view(), name="tokens"),
    path("auth/tokens/<int:pk>/", TokenDetailView.as_view(), name="token-detail"),
    path("lineage/edges/", LineageEdgeView.as_view(), name="lineage-edges"),
    path("lineage/<str:kind>/<id:pk>/", LineageGraphView.as_view(), name="lineage-graph"),
    path("", include("governance.audit.api.urls")),
    path("", include("governance.access.api_urls")),
    path("", include("governance.readiness.api_urls")),
    path("", include("governance.modelcards.api_urls")),
    path("", include("governance.approvals.api_urls")),
    path("", include("governance.reports.api_urls")),
    path("", include("governance.mlflow.api_urls")),
    path("", include("governance.retraining.api_urls")),
    path("", include("monitoring.api.urls")),
    path("", include(router.urls)),
]
