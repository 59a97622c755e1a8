"""API routes; included under /api/v1/ by portal/api_urls.py."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from governance.approvals import api

router = SimpleRouter()
router.register("approvals", api.ApprovalRequestViewSet, basename="approval")
router.register("approval-policies", api.PolicyViewSet, basename="approval-policy")
router.register("notifications", api.NotificationViewSet, basename="notification")
router.register("webhooks", api.WebhookViewSet, basename="webhook")

urlpatterns = [
    path("models/<slug:slug>/watch/", api.WatchView.as_view(), name="model-watch"),
    *router.urls,
]
