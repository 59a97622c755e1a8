"""`GET /api/v1/audit/production-at/?at=…[&model=slug]`: what served production at a moment."""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from governance.audit_selectors import production_at
from registry.choices import Action
from registry.models import RegisteredModel


class AsOfQuery(serializers.Serializer):
    at = serializers.DateTimeField()
    model = serializers.SlugField(required=False, max_length=140)


class ProductionAtView(APIView):
    """Which version served each production endpoint at `at`, and who approved it."""

    @extend_schema(parameters=[AsOfQuery], responses=dict)
    def get(self, request: Request) -> Response:
        query = AsOfQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        model = None
        if query.validated_data.get("model"):
            model = get_object_or_404(
                RegisteredModel.objects.restrict(request.user, Action.VIEW),
                slug=query.validated_data["model"],
            )
        rows = production_at(user=request.user, when=query.validated_data["at"], model=model)
        return Response({"at": query.validated_data["at"], "serving": [_row(r) for r in rows]})


def _row(row: dict) -> dict:
    deployment, version = row["deployment"], row["version"]
    return {
        "deployment": deployment.pk,
        "endpoint": deployment.endpoint,
        "traffic_share": str(deployment.traffic_share),
        "model": version.model.slug,
        "version": version.number,
        "deployed_at": deployment.deployed_at,
        "deployed_by": deployment.deployed_by.username,
        "approvals": [
            {
                "request": r.pk,
                "kind": r.kind,
                "closed_at": r.closed_at,
                "manifest_digest": r.manifest_digest,
                "approvers": [
                    d.reviewer.username for d in r.decisions.all() if d.verdict == "approve"
                ],
            }
            for r in row["approvals"]
        ],
    }
