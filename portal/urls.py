"""Steward's URL map."""

from csp.decorators import csp_update
from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import (
    SpectacularAPIView,
    SpectacularRedocView,
    SpectacularSwaggerSplitView,
)

# The API docs pages load their scripts from this origin (the split view serves Swagger's
# start-up script as a file), but Swagger UI and Redoc style elements inline and draw with
# data: images; Redoc also runs a blob: worker. Only these two pages get those.
DOCS_CSP = {"style-src": ["'unsafe-inline'"], "img-src": ["data:"], "worker-src": ["blob:"]}
handler400 = "portal.security.limits.bad_request"
handler404 = "portal.not_found.page_not_found"

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/", include("portal.api_urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path(
        "api/docs/",
        csp_update(DOCS_CSP)(SpectacularSwaggerSplitView.as_view(url_name="schema")),
        name="swagger-ui",
    ),
    path(
        "api/redoc/",
        csp_update(DOCS_CSP)(SpectacularRedocView.as_view(url_name="schema")),
        name="redoc",
    ),
    path("", include("portal.web_urls")),
]
