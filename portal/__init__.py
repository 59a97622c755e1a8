"""Steward's Django project: settings, URLs, the Celery app, dashboards and reports."""

from portal.celery import app as celery_app

__all__ = ["celery_app"]
