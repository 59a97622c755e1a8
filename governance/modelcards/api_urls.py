"""API routes; included under /api/v1/ by portal/api_urls.py."""

from django.urls import path

from governance.modelcards.api import ModelCardView

urlpatterns = [
    path("versions/<int:pk>/model-card/", ModelCardView.as_view(), name="version-model-card"),
]
