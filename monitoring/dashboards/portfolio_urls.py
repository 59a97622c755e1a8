"""Dashboard pages: the portfolio views (included by monitoring/urls.py)."""

from __future__ import annotations

urlpatterns: list = []
