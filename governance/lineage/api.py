"""Lineage API: the graph around a node, and recording an edge by hand."""

from __future__ import annotations

from django.http import Http404
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from governance import lineage
from governance.lineage.models import NodeKind, Relation
from governance.lineage.selectors import (
    BOTH,
    DOWNSTREAM,
    MAX_DEPTH,
    UPSTREAM,
    lineage_graph,
    visible_nodes,
)
from governance.lineage.services import link_by_hand
from registry.actors import acting_user
from registry.api.fields import ObjectIdField


class GraphQuery(serializers.Serializer):
    direction = serializers.ChoiceField(choices=[UPSTREAM, DOWNSTREAM, BOTH], default=BOTH)
    depth = serializers.IntegerField(min_value=1, max_value=MAX_DEPTH, default=3)


class EdgeInput(serializers.Serializer):
    upstream_kind = serializers.ChoiceField(choices=NodeKind.choices)
    upstream_id = ObjectIdField()
    downstream_kind = serializers.ChoiceField(choices=NodeKind.choices)
    downstream_id = ObjectIdField()
    relation = serializers.ChoiceField(choices=Relation.choices)


class LineageGraphView(APIView):
    """What went into this node (upstream) and what depends on it (downstream)."""

    @extend_schema(
        parameters=[GraphQuery, OpenApiParameter("kind", enum=NodeKind.values, location="path")],
        responses=dict,
    )
    def get(self, request: Request, kind: str, pk: int) -> Response:
        if kind not in NodeKind.values:
            raise Http404
        start = lineage.Node(kind, pk)
        if start not in visible_nodes(request.user, [start]):
            raise Http404
        query = GraphQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        return Response(lineage_graph(user=request.user, start=start, **query.validated_data))


class LineageEdgeView(APIView):
    """Record that one node was made from another. Needs change rights on both ends."""

    @extend_schema(request=EdgeInput, responses={201: dict})
    def post(self, request: Request) -> Response:
        data = EdgeInput(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        up = lineage.Node(v["upstream_kind"], v["upstream_id"])
        down = lineage.Node(v["downstream_kind"], v["downstream_id"])
        edge = link_by_hand(
            actor=acting_user(request), upstream=up, downstream=down, relation=v["relation"]
        )
        body = {
            "id": edge.pk,
            "upstream": str(up),
            "downstream": str(down),
            "relation": edge.relation,
        }
        return Response(body, status=status.HTTP_201_CREATED)
