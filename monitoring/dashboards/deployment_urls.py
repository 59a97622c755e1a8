"""Dashboard pages: the deployment views (included by monitoring/urls.py)."""

from __future__ import annotations

urlpatterns: list = []
