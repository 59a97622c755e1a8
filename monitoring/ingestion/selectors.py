"""Reads of ingested events. The deployment passed in has already been through
`Deployment.objects.restrict(user, "view")`; the user argument re-applies it for callers
that did not."""

from __future__ import annotations

from django.db.models import QuerySet

from monitoring.models import GroundTruth, PredictionEvent
from registry.actors import Viewer
from registry.choices import Action
from registry.models import Deployment


def _visible(user: Viewer, deployment: Deployment) -> QuerySet[Deployment]:
    return Deployment.objects.restrict(user, Action.VIEW).filter(pk=deployment.pk)


def prediction_list(*, user: Viewer, deployment: Deployment) -> QuerySet[PredictionEvent]:
    """The deployment's prediction events, newest first."""
    return PredictionEvent.objects.filter(deployment__in=_visible(user, deployment)).order_by(
        "-timestamp", "-id"
    )


def ground_truth_list(*, user: Viewer, deployment: Deployment) -> QuerySet[GroundTruth]:
    return GroundTruth.objects.filter(deployment__in=_visible(user, deployment)).order_by(
        "-timestamp", "-id"
    )
