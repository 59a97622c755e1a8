"""Access API routes; included under /api/v1/ (namespace "api") by portal/api_urls.py."""

from django.urls import path

from governance.access.api import ModelAccessView

urlpatterns = [
    path("models/<slug:slug>/access/", ModelAccessView.as_view(), name="model-access"),
]
