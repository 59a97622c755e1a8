"""API routes; included under /api/v1/ by portal/api_urls.py."""

from rest_framework.routers import SimpleRouter

from governance.mlflow import api

router = SimpleRouter()
router.register("mlflow/connections", api.ConnectionViewSet, basename="mlflow-connection")

urlpatterns = router.urls
