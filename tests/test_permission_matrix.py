"""The permission matrix: every URL pattern (UI and API) that takes an object id, every HTTP
method it serves, every role and relation, on model A's objects and on model B's.

The rule (docs/architecture.md, Permissions): an object you may not see answers 404; one you may
see but not change answers 403 on writes (the UI's forms answer with a redirect and an error
message instead); allowed requests get through the permission layer. No list, count, search or
filter shows anything of model B to someone with rights on model A only.

The routes come from walking the URL resolver, so a new route that takes an object id fails
`test_every_route_that_takes_an_object_id_is_in_the_matrix` until it is added to ROUTES below.

One world (tests/matrix_support.py) is built per module; every request runs in a savepoint that
is rolled back, so what an allowed user writes in one cell is gone before the next.

Cells that show a bug carry `xfail(strict=True)` (KNOWN_BUGS, NOT_405_BUGS, LEAK_BUGS,
ORACLE_BUGS): the suite stays green while the bug is visible, and turns red once the bug is
fixed, so that the mark goes too.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlencode

import pytest
from django.test import override_settings
from django.urls import reverse

from governance.approvals.models import ApprovalRequest, Notification, WebhookEndpoint
from monitoring.models import Alert, AlertRule
from registry.models import Artifact, Dataset, Deployment, ModelVersion
from tests import factories
from tests import matrix_support as ms
from tests.matrix_support import DONE, LOGIN, PAGE, REFUSED, Outcome, World

SIDES = ("A", "B")
ALL_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")

# --- who may do what -----------------------------------------------------------------------------
# The specification, written out by hand rather than asked of restrict(): role -> the actions it
# holds on each model. "own" is not an action: it stands for being the model's owner (the only
# one besides the requester who may withdraw an approval request).
EVERY_ACTION = frozenset({"view", "change", "delete", "approve", "deploy", "manage_access"})
RIGHTS: dict[str, dict[str, frozenset[str]]] = {
    "A": {
        "anonymous": frozenset(),
        "owner": frozenset({"view", "change", "delete", "deploy", "manage_access", "own"}),
        "viewer": frozenset({"view"}),
        "editor": frozenset({"view", "change"}),
        # guardian grants are per action: change without view leaves the model invisible.
        "change_only": frozenset({"change"}),
        "reviewer": frozenset({"view", "approve"}),
        "auditor": frozenset({"view"}),
        "outsider": frozenset(),
        "superuser": EVERY_ACTION,
    },
    "B": {
        "anonymous": frozenset(),
        "owner": frozenset(),
        "viewer": frozenset(),
        "editor": frozenset(),
        "change_only": frozenset(),
        "reviewer": frozenset({"view", "approve"}),
        "auditor": frozenset({"view"}),
        "outsider": frozenset(),
        "superuser": EVERY_ACTION,
    },
}


def sees(role: str, side: str) -> bool:
    return "view" in RIGHTS[side][role]


# Issue #7 names four relations between a requester and an object's model; every route and
# method is asked of each (plus anonymous and the global roles). Written by hand, like RIGHTS;
# test_the_world_gives_each_role_the_relation_the_matrix_names checks the world against it.
RELATIONS = ("owner", "granted on this model", "granted on another model only", "none")
GLOBAL_ROLES = ("reviewer", "auditor", "superuser")


def relation(role: str, side: str) -> str:
    if role == "anonymous":
        return "anonymous"
    if role in GLOBAL_ROLES:
        return "global role"
    if role == "outsider":
        return "none"
    if side == "B":  # every other role owns, or holds grants on, model A only
        return "granted on another model only"
    return "owner" if role == "owner" else "granted on this model"


# --- the matrix ----------------------------------------------------------------------------------

Expected = int | str | tuple[int | str, ...]


@dataclass(frozen=True)
class Check:
    """What one method of a route expects. By default: anonymous 401 (API) or a redirect to the
    login page (UI); 404 without view rights; 403 (API) or REFUSED (UI) without `needs`; else
    `ok`. `expect` replaces that rule for objects outside the registry's permission model;
    `overrides` name the cells that the design decides otherwise, with `why`."""

    ok: Expected = 200
    needs: str = ""
    body: Any = None  # or a function of the world
    fmt: str = ""
    expect: Callable[[str, str], Expected] | None = None
    overrides: Mapping[tuple[str, str], Expected] = field(default_factory=dict)
    why: str = ""


KwargsFor = Callable[[World, str], list[tuple[str, dict[str, Any]]]]


@dataclass(frozen=True)
class Route:
    ui: bool
    kwargs: KwargsFor  # (variant label, kwargs) for one side's object(s)
    methods: Mapping[str, Check]


def one(build: Callable[[ms.Side], dict[str, Any]]) -> KwargsFor:
    return lambda world, side: [("", build(world.side(side)))]


def matrix_alert(deployment: Any) -> Any:
    """An open alert on `deployment` (rolled back with the test's savepoint)."""
    from django.utils import timezone

    from monitoring.models import Alert, AlertRule

    rule = AlertRule.objects.create(
        deployment=deployment, source="metric", name="accuracy", comparator="lt", threshold=0.9
    )
    return Alert.objects.create(
        rule=rule,
        deployment=deployment,
        value=0.5,
        message="matrix",
        dedup_key=f"{rule.pk}:{deployment.pk}",
        opened_at=timezone.now(),
    )


def matrix_rule(model: Any) -> Any:
    """An alert rule on `model` that never fired."""
    from monitoring.models import AlertRule

    return AlertRule.objects.create(
        model=model, source="metric", name="accuracy", comparator="lt", threshold=0.9
    )


def matrix_rule_with_webhook(model: Any) -> Any:
    """An alert rule on `model` calling a webhook on a loopback address, which the sender
    refuses before connecting (no network in the matrix)."""
    from monitoring.models import AlertRule

    return AlertRule.objects.create(
        model=model,
        source="metric",
        name="accuracy",
        comparator="lt",
        threshold=0.9,
        webhook_url="https://127.0.0.1:9/hook",
    )


def lineage_nodes(world: World, side: str) -> list[tuple[str, dict[str, Any]]]:
    s = world.side(side)
    return [
        ("dataset", {"kind": "dataset", "pk": s.dataset.pk}),
        ("version", {"kind": "version", "pk": s.v1.pk}),
        ("artifact", {"kind": "artifact", "pk": s.artifact.pk}),
        ("deployment", {"kind": "deployment", "pk": s.deployment.pk}),
    ]


def policy_editors(role: str, side: str) -> Expected:
    """Approval policies are changed by admins (here: the superuser) only."""
    if role == "anonymous":
        return 401
    return 200 if role == "superuser" else 403


def connection_managers(ok: int) -> Callable[[str, str], Expected]:
    """MLflow connections belong to no model: admins (here: the superuser) only, and 403 for
    every other signed-in user whether the id exists or not."""

    def expect(role: str, side: str) -> Expected:
        if role == "anonymous":
            return 401
        return ok if role == "superuser" else 403

    return expect


def matrix_connection(world: Any, side: str) -> list[tuple[str, dict[str, Any]]]:
    """One MLflow connection (rolled back with the test's savepoint); both columns name it."""
    from governance.mlflow.models import MlflowConnection

    connection, _ = MlflowConnection.objects.get_or_create(
        name="matrix", defaults={"tracking_uri": "http://mlflow.invalid:5000"}
    )
    return [("", {"pk": connection.pk})]


def every_signed_in_user(role: str, side: str) -> Expected:
    """Objects that belong to no model (checklist templates, approval policies)."""
    return 401 if role == "anonymous" else 200


def recipient_only(role: str, side: str) -> Expected:
    """A notification is its recipient's alone (A's: the owner's; B's: bob's, no role here)."""
    if role == "anonymous":
        return 401
    return 200 if (role, side) == ("owner", "A") else 404


def recipient_only_ui(role: str, side: str) -> Expected:
    """The notification page's mark-read: the recipient's alone, as in the API."""
    if role == "anonymous":
        return LOGIN
    return DONE if (role, side) == ("owner", "A") else 404


def webhook_managers(role: str, side: str) -> Expected:
    """A model's webhooks are listed (and deleted) by who may manage access to the model; the
    rest do not see them at all."""
    if role == "anonymous":
        return 401
    return 204 if "manage_access" in RIGHTS[side][role] else 404


def webhook_managers_ui(ok: str) -> Callable[[str, str], Expected]:
    """The webhook pages: whoever may manage access to the webhook's model gets `ok`; the
    rest do not see the webhook at all (404), as in the API."""

    def expect(role: str, side: str) -> Expected:
        if role == "anonymous":
            return LOGIN
        return ok if "manage_access" in RIGHTS[side][role] else 404

    return expect


def matrix_refused_webhook(side: ms.Side) -> Any:
    """A webhook of the side's model on a loopback address: a test send reaches the sender,
    which refuses the address before any connection (no network in the matrix)."""
    return WebhookEndpoint.objects.create(
        name="matrix-loopback",
        url="https://127.0.0.1:9/hook",
        secret="s" * 32,
        model=side.model,
        created_by=side.model.owner,
    )


RULE_FORM = {
    "scope": "deployment",
    "source": "metric",
    "name": "accuracy",
    "comparator": "lt",
    "threshold": "0.5",
    "window_days": "1",
    "severity": "warning",
    "save": "1",
}
RULE_EDIT = {k: v for k, v in RULE_FORM.items() if k not in ("scope", "source", "name")}
WEBHOOK_EDIT = {"name": "matrix", "url": "https://matrix.example.org/hook", "active": "on"}


def matrix_report(side: ms.Side) -> Any:
    """A signed report of the side's approved version (rolled back with the test's savepoint;
    the bytes are a stand-in: the matrix checks who reaches them, not what they say)."""
    from django.core.files.base import ContentFile
    from django.utils import timezone

    from governance.reports.models import ReportExport

    export = ReportExport(
        kind="version",
        version=side.v1,
        sha256="0" * 64,
        size=9,
        generated_by_name=side.model.owner.username,
        generated_at=timezone.now(),
    )
    export.file.save("matrix.pdf", ContentFile(b"%PDF-1.7\n"), save=False)
    export.save()
    return export


def matrix_report_job(side: ms.Side) -> Any:
    """A report export job requested by the side's owner."""
    from monitoring.models import JobRun

    return JobRun.objects.create(
        kind="report_export", requested_by=side.model.owner, params={"version": side.v1.pk}
    )


def matrix_schedule(side: ms.Side) -> Any:
    """A monthly report schedule of the side's deployment."""
    from governance.reports.models import ReportSchedule

    return ReportSchedule.objects.create(deployment=side.deployment, recipients="m@example.org")


def job_readers(ui: bool) -> Callable[[str, str], Expected]:
    """A report job is followed as the job page lists runs (`job_run_list`): by the user who
    requested it (A's: the owner; B's: bob, no role here) and by those who see every model
    (the global roles); nobody else, whatever they may view."""

    def expect(role: str, side: str) -> Expected:
        if role == "anonymous":
            return LOGIN if ui else 401
        if (role, side) == ("owner", "A") or role in GLOBAL_ROLES:
            return PAGE if ui else 200
        return 404

    return expect


def answer_body(world: World) -> dict[str, Any]:
    """One readiness answer for an item of the world's checklist."""
    return {"item": world.item_key, "answer": "yes", "evidence_text": "matrix evidence"}


def administrators(ok: Expected) -> Callable[[str, str], Expected]:
    """The administration pages (portal/administration/): admins (here: the superuser) only;
    every other signed-in user gets 403, whatever they may do on models."""

    def expect(role: str, side: str) -> Expected:
        if role == "anonymous":
            return LOGIN
        return ok if role == "superuser" else 403

    return expect


def grant_readers(role: str, side: str) -> Expected:
    """A model's grants page: 404 unseen, 403 seen without manage_access, else the page."""
    if role == "anonymous":
        return LOGIN
    if not sees(role, side):
        return 404
    return PAGE if "manage_access" in RIGHTS[side][role] else 403


def token_holder_only(role: str, side: str) -> Expected:
    """My tokens page: a token is its holder's (A's: the owner's; B's: bob's, no role here);
    any other user's, the superuser's included, is a 404."""
    if role == "anonymous":
        return LOGIN
    return DONE if (role, side) == ("owner", "A") else 404


def matrix_token(side: ms.Side) -> Any:
    """An API token of the side's model owner (rolled back with the test's savepoint)."""
    from portal.security.tokens import token_create

    return token_create(user=side.model.owner, name="matrix")[0]


SUPERUSER_NOT_IN_POLICY_GROUP = {("superuser", "A"): 403, ("superuser", "B"): 403}


def matrix_split(side: ms.Side) -> Any:
    """v1 of the side's model on half of a fresh staging endpoint: room for a canary."""
    return factories.deployment(
        version=side.v1, endpoint=f"https://{side.model.slug}.example.org/split", traffic_share=50
    )


def matrix_retraining_run(side: ms.Side) -> Any:
    """The side's model with a retraining policy and one queued run (made once per module)."""
    from governance.retraining.models import RetrainingPolicy, RetrainingRun

    RetrainingPolicy.objects.get_or_create(model=side.model)
    run, _ = RetrainingRun.objects.get_or_create(
        model=side.model,
        trigger="manual",
        defaults={"trainer": "steward", "state": "queued", "base_version": side.v1},
    )
    return run


RETRAINING_FORM = {
    "enabled": "on",
    "every_days": "30",
    "min_days": "7",
    "metric_source": "realised",
    "metric_window_days": "7",
    "window_days": "30",
    "trainer": "steward",
}


def checklist_item(world: World, side: str) -> list[tuple[str, dict[str, Any]]]:
    s = world.side(side)
    return [("", {"slug": s.model.slug, "number": s.v3.number, "key": world.item_key})]


# Route name -> its objects and methods. The objects are chosen so that an allowed write goes
# through: version routes take v3 (a draft: it may be submitted, archived, answered), artifact
# routes v2's stored artifact (not frozen), deployment routes the v3 deployment that replaced
# v1's at the same endpoint (so a rollback has somewhere to go), approval routes v2's open
# request. Every write is rolled back after its cell.
ROUTES: dict[str, Route] = {
    # --- registry API ---
    "api:model-detail": Route(
        ui=False,
        kwargs=one(lambda s: {"slug": s.model.slug}),
        methods={
            "GET": Check(),
            "PATCH": Check(needs="change", body={"description": "changed"}, fmt="json"),
        },
    ),
    "api:model-versions": Route(
        ui=False,
        kwargs=one(lambda s: {"slug": s.model.slug}),
        methods={"GET": Check(), "POST": Check(ok=201, needs="change", body={}, fmt="json")},
    ),
    "api:version-detail": Route(
        ui=False, kwargs=one(lambda s: {"pk": s.v3.pk}), methods={"GET": Check()}
    ),
    "api:version-submit": Route(
        ui=False, kwargs=one(lambda s: {"pk": s.v3.pk}), methods={"POST": Check(needs="change")}
    ),
    "api:version-archive": Route(
        ui=False, kwargs=one(lambda s: {"pk": s.v3.pk}), methods={"POST": Check(needs="change")}
    ),
    "api:version-artifacts": Route(
        ui=False,
        kwargs=one(lambda s: {"pk": s.v3.pk}),
        methods={
            "GET": Check(),
            "POST": Check(
                ok=201,
                needs="change",
                body={"kind": "report", "uri": "s3://matrix/report.pdf"},
                fmt="json",
            ),
        },
    ),
    "api:artifact-detail": Route(
        ui=False,
        kwargs=one(lambda s: {"pk": s.artifact.pk}),
        methods={
            "GET": Check(),
            "PATCH": Check(needs="change", body={"description": "changed"}, fmt="json"),
            "DELETE": Check(ok=204, needs="change"),
        },
    ),
    "api:artifact-download": Route(
        ui=False, kwargs=one(lambda s: {"pk": s.artifact.pk}), methods={"GET": Check()}
    ),
    "api:dataset-detail": Route(
        ui=False, kwargs=one(lambda s: {"pk": s.dataset.pk}), methods={"GET": Check()}
    ),
    "api:dataset-download": Route(
        ui=False, kwargs=one(lambda s: {"pk": s.dataset.pk}), methods={"GET": Check()}
    ),
    "api:deployment-detail": Route(
        ui=False, kwargs=one(lambda s: {"pk": s.deployment.pk}), methods={"GET": Check()}
    ),
    "api:deployment-retire": Route(
        ui=False,
        kwargs=one(lambda s: {"pk": s.deployment.pk}),
        methods={"POST": Check(needs="deploy")},
    ),
    "api:deployment-predictions": Route(
        ui=False,
        kwargs=one(lambda s: {"pk": s.deployment.pk}),
        methods={
            "GET": Check(),
            "POST": Check(
                needs="deploy",
                fmt="json",
                body=lambda w: [
                    {
                        "request_id": "matrix-1",
                        "timestamp": "2026-11-01T00:00:00Z",
                        "features": {"age": 40, "income": 1000.0, "region": "north"},
                    }
                ],
            ),
        },
    ),
    "api:deployment-ground-truth": Route(
        ui=False,
        kwargs=one(lambda s: {"pk": s.deployment.pk}),
        methods={
            "GET": Check(),
            "POST": Check(
                needs="deploy", fmt="json", body=[{"request_id": "matrix-1", "label": "yes"}]
            ),
        },
    ),
    # Allowed posters get past the permission layer to the layout check: 409 for a digest
    # that is not the version's (the matrix posts no real summaries).
    "api:deployment-summaries": Route(
        ui=False,
        kwargs=one(lambda s: {"pk": s.deployment.pk}),
        methods={
            "POST": Check(
                ok=409, needs="deploy", fmt="json", body={"format": 1, "layout_digest": "x"}
            ),
        },
    ),
    "api:version-layouts": Route(
        ui=False, kwargs=one(lambda s: {"pk": s.v1.pk}), methods={"GET": Check()}
    ),
    "api:deployment-drift": Route(
        ui=False,
        kwargs=one(lambda s: {"pk": s.deployment.pk}),
        methods={"GET": Check()},
    ),
    "api:deployment-health": Route(
        ui=False,
        kwargs=one(lambda s: {"pk": s.deployment.pk}),
        methods={"GET": Check()},
    ),
    "api:deployment-performance": Route(
        ui=False,
        kwargs=one(lambda s: {"pk": s.deployment.pk}),
        methods={"GET": Check()},
    ),
    "api:deployment-estimated-performance": Route(
        ui=False,
        kwargs=one(lambda s: {"pk": s.deployment.pk}),
        methods={"GET": Check()},
    ),
    "api:deployment-quality": Route(
        ui=False,
        kwargs=one(lambda s: {"pk": s.deployment.pk}),
        methods={"GET": Check()},
    ),
    "api:deployment-status": Route(
        ui=False,
        kwargs=one(lambda s: {"pk": s.deployment.pk}),
        methods={"GET": Check()},
    ),
    "api:deployment-monitoring-settings": Route(
        ui=False,
        kwargs=one(lambda s: {"pk": s.deployment.pk}),
        methods={
            "GET": Check(),
            "PATCH": Check(
                needs="change", body={"thresholds": {"accuracy_at_risk": 0.8}}, fmt="json"
            ),
        },
    ),
    "api:deployment-monitoring-rebuild": Route(
        ui=False,
        kwargs=one(lambda s: {"pk": s.deployment.pk}),
        methods={"POST": Check(ok=202, needs="change", body={"since": "2026-11-01"}, fmt="json")},
    ),
    # The body names model A's dataset: for model B's version it is not one of its model's.
    "api:version-monitoring-reference": Route(
        ui=False,
        kwargs=one(lambda s: {"pk": s.v1.pk}),
        methods={
            "GET": Check(),
            "POST": Check(
                needs="change",
                body=lambda w: {"dataset": w.a.dataset.pk},
                fmt="json",
                overrides={("superuser", "B"): 400},
                why="model A's dataset is no reference for a version of model B",
            ),
        },
    ),
    "monitoring:deployment-reference": Route(
        ui=True,
        kwargs=one(lambda s: {"pk": s.deployment.pk}),
        methods={
            "POST": Check(
                ok=DONE,
                needs="change",
                body=lambda w: {"dataset": w.a.dataset.pk},
                overrides={("superuser", "B"): REFUSED},
                why="model A's dataset is no reference for a version of model B",
            )
        },
    ),
    "api:alert-acknowledge": Route(
        ui=False,
        kwargs=one(lambda s: {"pk": matrix_alert(s.deployment).pk}),
        methods={"POST": Check(needs="change")},
    ),
    "api:alert-resolve": Route(
        ui=False,
        kwargs=one(lambda s: {"pk": matrix_alert(s.deployment).pk}),
        methods={"POST": Check(needs="change")},
    ),
    # A fresh rule without alerts, so DELETE is allowed (a rule that fired answers 409).
    "api:alert-rule-detail": Route(
        ui=False,
        kwargs=one(lambda s: {"pk": matrix_rule(s.model).pk}),
        methods={
            "GET": Check(),
            "PATCH": Check(needs="change", body={"threshold": 0.5}, fmt="json"),
            "DELETE": Check(ok=204, needs="change"),
        },
    ),
    "monitoring:alert-acknowledge": Route(
        ui=True,
        kwargs=one(lambda s: {"pk": matrix_alert(s.deployment).pk}),
        methods={"POST": Check(ok=DONE, needs="change")},
    ),
    "monitoring:alert-resolve": Route(
        ui=True,
        kwargs=one(lambda s: {"pk": matrix_alert(s.deployment).pk}),
        methods={"POST": Check(ok=DONE, needs="change")},
    ),
    # --- monitoring settings: alert rules ---
    "monitoring:deployment-rules": Route(
        ui=True, kwargs=one(lambda s: {"pk": s.deployment.pk}), methods={"GET": Check(ok=PAGE)}
    ),
    "monitoring:rule-new": Route(
        ui=True,
        kwargs=one(lambda s: {"pk": s.deployment.pk}),
        methods={"GET": Check(ok=PAGE), "POST": Check(ok=DONE, needs="change", body=RULE_FORM)},
    ),
    "monitoring:rule-edit": Route(
        ui=True,
        kwargs=one(lambda s: {"pk": matrix_rule(s.model).pk}),
        methods={"GET": Check(ok=PAGE), "POST": Check(ok=DONE, needs="change", body=RULE_EDIT)},
    ),
    "monitoring:rule-active": Route(
        ui=True,
        kwargs=one(lambda s: {"pk": matrix_rule(s.model).pk}),
        methods={"POST": Check(ok=DONE, needs="change", body={"active": "0"})},
    ),
    # A test send by whoever may change the rule runs and fails on its loopback address (an
    # error message from the sender's refusal); viewers are refused before anything is sent.
    "monitoring:rule-test": Route(
        ui=True,
        kwargs=one(lambda s: {"pk": matrix_rule_with_webhook(s.model).pk}),
        methods={"POST": Check(ok=REFUSED, needs="change")},
    ),
    "monitoring:rule-delete": Route(
        ui=True,
        kwargs=one(lambda s: {"pk": matrix_rule(s.model).pk}),
        methods={"GET": Check(ok=PAGE), "POST": Check(ok=DONE, needs="change")},
    ),
    "api:deployment-rollback": Route(
        ui=False,
        kwargs=one(lambda s: {"pk": s.deployment.pk}),
        methods={"POST": Check(ok=201, needs="deploy", body={"reason": "matrix"}, fmt="json")},
    ),
    # --- lineage, readiness, approvals, access, watching (API) ---
    "api:lineage-graph": Route(ui=False, kwargs=lineage_nodes, methods={"GET": Check()}),
    "api:version-readiness": Route(
        ui=False, kwargs=one(lambda s: {"pk": s.v3.pk}), methods={"GET": Check()}
    ),
    "api:version-readiness-answers": Route(
        ui=False,
        kwargs=one(lambda s: {"pk": s.v3.pk}),
        methods={
            "POST": Check(needs="change", body=answer_body, fmt="json"),
            "PUT": Check(needs="change", body=answer_body, fmt="json"),
        },
    ),
    # --- model cards (governance/modelcards): read with the view right, saved with change ---
    "api:version-model-card": Route(
        ui=False,
        kwargs=one(lambda s: {"pk": s.v3.pk}),
        methods={
            "GET": Check(),
            "PUT": Check(needs="change", body={"text": {"limitations": "matrix"}}, fmt="json"),
            "POST": Check(needs="change", body={"text": {"caveats": "matrix"}}, fmt="json"),
        },
    ),
    "api:readiness-template-version": Route(
        ui=False,
        # One template serves every model: both columns name the same object.
        kwargs=lambda world, side: [("", {"number": 1})],
        methods={"GET": Check(expect=every_signed_in_user)},
    ),
    "api:approval-policy-detail": Route(
        ui=False,
        # A policy belongs to a risk tier, not to a model: each column names its model's tier.
        kwargs=one(lambda s: {"risk_tier": s.model.risk_tier}),
        methods={
            "GET": Check(expect=every_signed_in_user),
            # Policies are edited by admins only (issue #11).
            "PATCH": Check(
                expect=policy_editors, body={"min_approvals": 2, "reason": "matrix"}, fmt="json"
            ),
        },
    ),
    "api:mlflow-connection-detail": Route(
        ui=False,
        kwargs=matrix_connection,
        methods={
            "GET": Check(expect=connection_managers(200)),
            "PATCH": Check(
                expect=connection_managers(200), body={"revert_unapproved": True}, fmt="json"
            ),
        },
    ),
    "api:mlflow-connection-sync": Route(
        ui=False,
        kwargs=matrix_connection,
        methods={"POST": Check(expect=connection_managers(202))},
    ),
    "api:mlflow-connection-syncs": Route(
        ui=False,
        kwargs=matrix_connection,
        methods={"GET": Check(expect=connection_managers(200))},
    ),
    "api:approval-policy-versions": Route(
        ui=False,
        kwargs=one(lambda s: {"risk_tier": s.model.risk_tier}),
        methods={"GET": Check(expect=every_signed_in_user)},
    ),
    "api:approval-detail": Route(
        ui=False, kwargs=one(lambda s: {"pk": s.pending.pk}), methods={"GET": Check()}
    ),
    "api:approval-decide": Route(
        ui=False,
        kwargs=one(lambda s: {"pk": s.pending.pk}),
        methods={
            "POST": Check(
                needs="approve",
                body={"verdict": "reject", "comment": "matrix"},
                fmt="json",
                overrides=SUPERUSER_NOT_IN_POLICY_GROUP,
                why="the medium-risk policy takes decisions from the reviewers group only",
            )
        },
    ),
    "api:approval-withdraw": Route(
        ui=False,
        kwargs=one(lambda s: {"pk": s.pending.pk}),
        methods={"POST": Check(needs="own")},
    ),
    "api:model-access": Route(
        ui=False,
        kwargs=one(lambda s: {"slug": s.model.slug}),
        methods={
            "GET": Check(needs="manage_access"),
            "POST": Check(
                needs="manage_access", body={"user": "oscar", "actions": ["view"]}, fmt="json"
            ),
            "DELETE": Check(
                needs="manage_access", body={"user": "vera", "actions": ["view"]}, fmt="json"
            ),
        },
    ),
    "api:model-watch": Route(
        ui=False,
        kwargs=one(lambda s: {"slug": s.model.slug}),
        methods={"POST": Check(), "DELETE": Check()},
    ),
    "api:notification-read": Route(
        ui=False,
        kwargs=one(lambda s: {"pk": s.notification.pk}),
        methods={"POST": Check(expect=recipient_only)},
    ),
    "approvals:notification-read": Route(
        ui=True,
        kwargs=one(lambda s: {"pk": s.notification.pk}),
        methods={"POST": Check(expect=recipient_only_ui)},
    ),
    "api:webhook-detail": Route(
        ui=False,
        kwargs=one(lambda s: {"pk": s.webhook.pk}),
        methods={"DELETE": Check(expect=webhook_managers)},
    ),
    # --- webhook pages: manage access on the webhook's model, else 404 (as the API) ---
    "approvals:webhook-detail": Route(
        ui=True,
        kwargs=one(lambda s: {"pk": s.webhook.pk}),
        methods={"GET": Check(expect=webhook_managers_ui(PAGE))},
    ),
    "approvals:webhook-edit": Route(
        ui=True,
        kwargs=one(lambda s: {"pk": s.webhook.pk}),
        methods={
            "GET": Check(expect=webhook_managers_ui(PAGE)),
            "POST": Check(expect=webhook_managers_ui(DONE), body=WEBHOOK_EDIT),
        },
    ),
    "approvals:webhook-active": Route(
        ui=True,
        kwargs=one(lambda s: {"pk": s.webhook.pk}),
        methods={"POST": Check(expect=webhook_managers_ui(DONE), body={"active": "0"})},
    ),
    "approvals:webhook-delete": Route(
        ui=True,
        kwargs=one(lambda s: {"pk": s.webhook.pk}),
        methods={
            "GET": Check(expect=webhook_managers_ui(PAGE)),
            "POST": Check(expect=webhook_managers_ui(DONE)),
        },
    ),
    # A manager's test send runs and fails on the loopback address (an error message: the
    # sender refused it); everyone else is answered 404 before anything is sent.
    "approvals:webhook-test": Route(
        ui=True,
        kwargs=one(lambda s: {"pk": matrix_refused_webhook(s).pk}),
        methods={"POST": Check(expect=webhook_managers_ui(REFUSED))},
    ),
    # The entry about the model's creation: read by whoever may view the model (audit_visible,
    # the audit page's rule), so the default expectations hold.
    "api:audit-event-detail": Route(
        ui=False, kwargs=one(lambda s: {"seq": s.event.seq}), methods={"GET": Check()}
    ),
    # --- signed reports (API) ---
    "api:report-export-detail": Route(
        ui=False, kwargs=one(lambda s: {"pk": matrix_report(s).pk}), methods={"GET": Check()}
    ),
    "api:report-export-download": Route(
        ui=False, kwargs=one(lambda s: {"pk": matrix_report(s).pk}), methods={"GET": Check()}
    ),
    "api:report-technical-documentation": Route(
        ui=False, kwargs=one(lambda s: {"pk": s.v1.pk}), methods={"GET": Check()}
    ),
    "api:report-job-detail": Route(
        ui=False,
        kwargs=one(lambda s: {"pk": matrix_report_job(s).pk}),
        methods={"GET": Check(expect=job_readers(ui=False))},
    ),
    "api:report-schedule-detail": Route(
        ui=False,
        kwargs=one(lambda s: {"pk": matrix_schedule(s).pk}),
        methods={"GET": Check(), "DELETE": Check(needs="change", ok=204)},
    ),
    **{
        f"api:report-schedule-{switch}": Route(
            ui=False,
            kwargs=one(lambda s: {"pk": matrix_schedule(s).pk}),
            methods={"POST": Check(needs="change")},
        )
        for switch in ("pause", "resume")
    },
    # --- pages ---
    "registry:model-detail": Route(
        ui=True, kwargs=one(lambda s: {"slug": s.model.slug}), methods={"GET": Check(ok=PAGE)}
    ),
    "registry:version-detail": Route(
        ui=True,
        kwargs=one(lambda s: {"slug": s.model.slug, "number": s.v1.number}),
        methods={"GET": Check(ok=PAGE)},
    ),
    "registry:dataset-detail": Route(
        ui=True, kwargs=one(lambda s: {"pk": s.dataset.pk}), methods={"GET": Check(ok=PAGE)}
    ),
    "registry:deployment-detail": Route(
        ui=True, kwargs=one(lambda s: {"pk": s.deployment.pk}), methods={"GET": Check(ok=PAGE)}
    ),
    # The registry's write pages (portal/registry_edit.py): the form opens, and posts, for
    # who may change the model; who only sees it is sent back with the reason.
    "registry:model-edit": Route(
        ui=True,
        kwargs=one(lambda s: {"slug": s.model.slug}),
        methods={
            "GET": Check(ok=PAGE, needs="change"),
            "POST": Check(
                ok=DONE, needs="change", body={"description": "matrix", "risk_tier": "medium"}
            ),
        },
    ),
    "registry:version-new": Route(
        ui=True,
        kwargs=one(lambda s: {"slug": s.model.slug}),
        methods={
            "GET": Check(ok=PAGE, needs="change"),
            "POST": Check(ok=DONE, needs="change", body={"description": "matrix"}),
        },
    ),
    "registry:artifact-upload": Route(
        ui=True,
        kwargs=one(lambda s: {"slug": s.model.slug, "number": s.v3.number}),
        methods={
            "GET": Check(ok=PAGE, needs="change"),
            "POST": Check(
                ok=DONE,
                needs="change",
                body=lambda w: {"kind": "report", "file": ms.upload(b"matrix report", "r.pdf")},
            ),
        },
    ),
    "registry:artifact-link": Route(
        ui=True,
        kwargs=one(lambda s: {"slug": s.model.slug, "number": s.v3.number}),
        methods={
            "GET": Check(ok=PAGE, needs="change"),
            "POST": Check(
                ok=DONE,
                needs="change",
                body={"kind": "other", "uri": "s3://matrix/link.bin", "name": "matrix-link"},
            ),
        },
    ),
    "registry:dataset-upload": Route(
        ui=True,
        kwargs=one(lambda s: {"slug": s.model.slug, "number": s.v3.number}),
        methods={
            "GET": Check(ok=PAGE, needs="change"),
            "POST": Check(
                ok=DONE,
                needs="change",
                body=lambda w: {
                    "file": ms.upload(b"age,income\n1,2.5\n", "m.csv"),
                    "name": "matrix",
                    "kind": "validation",
                    "link_as": "validated_with",
                },
            ),
        },
    ),
    "registry:version-lineage": Route(
        ui=True,
        kwargs=one(lambda s: {"slug": s.model.slug, "number": s.v3.number}),
        methods={
            "GET": Check(ok=PAGE, needs="change"),
            "POST": Check(
                ok=DONE,
                needs="change",
                body=lambda w: {"relation": "trained_on", "dataset": w.a.dataset.pk},
                overrides={("superuser", "B"): REFUSED},
                why="the body names model A's dataset, which the form on model B's version "
                "refuses as no dataset of that model",
            ),
        },
    ),
    "registry:version-archive": Route(
        ui=True,
        kwargs=one(lambda s: {"slug": s.model.slug, "number": s.v3.number}),
        methods={
            "GET": Check(ok=PAGE, needs="change"),
            "POST": Check(ok=DONE, needs="change"),
        },
    ),
    # The deployment's monitoring dashboards (monitoring/dashboards/deployment_urls.py).
    **{
        f"monitoring:deployment-{page}": Route(
            ui=True, kwargs=one(lambda s: {"pk": s.deployment.pk}), methods={"GET": Check(ok=PAGE)}
        )
        for page in ("health", "performance", "drift", "data", "quality")
    },
    "reports:technical-documentation": Route(
        ui=True, kwargs=one(lambda s: {"pk": s.v1.pk}), methods={"GET": Check(ok=200)}
    ),
    "reports:job": Route(
        ui=True,
        kwargs=one(lambda s: {"pk": matrix_report_job(s).pk}),
        methods={"GET": Check(expect=job_readers(ui=True))},
    ),
    "reports:schedule-delete": Route(
        ui=True,
        kwargs=one(lambda s: {"pk": matrix_schedule(s).pk}),
        methods={"GET": Check(ok=PAGE)},
    ),
    "reports:schedule-change": Route(
        ui=True,
        kwargs=one(lambda s: {"pk": matrix_schedule(s).pk}),
        methods={"POST": Check(ok=DONE, needs="change", body={"change": "pause"})},
    ),
    "approvals:request-detail": Route(
        ui=True, kwargs=one(lambda s: {"pk": s.pending.pk}), methods={"GET": Check(ok=PAGE)}
    ),
    "approvals:decide": Route(
        ui=True,
        kwargs=one(lambda s: {"pk": s.pending.pk}),
        methods={
            "POST": Check(
                ok=DONE,
                needs="approve",
                body={"verdict": "reject", "comment": "matrix"},
                overrides={("superuser", "A"): REFUSED, ("superuser", "B"): REFUSED},
                why="the medium-risk policy takes decisions from the reviewers group only",
            )
        },
    ),
    "approvals:withdraw": Route(
        ui=True,
        kwargs=one(lambda s: {"pk": s.pending.pk}),
        methods={"POST": Check(ok=DONE, needs="own")},
    ),
    "governance:model-access": Route(
        ui=True,
        kwargs=one(lambda s: {"slug": s.model.slug}),
        methods={
            "POST": Check(
                ok=DONE,
                needs="manage_access",
                body={"principal": "oscar", "kind": "user", "action": "view", "change": "grant"},
            )
        },
    ),
    "governance:model-watch": Route(
        ui=True,
        kwargs=one(lambda s: {"slug": s.model.slug}),
        methods={"POST": Check(ok=DONE, body={"watch": "1"})},
    ),
    # --- the write pages of deployments (portal/deployment_edit.py): a user who sees the
    # deployment but may not deploy (or change) it is refused on GET as on POST ---
    "registry:version-deploy": Route(
        ui=True,
        kwargs=one(lambda s: {"slug": s.model.slug, "number": s.v1.number}),
        methods={
            "GET": Check(ok=PAGE, needs="deploy"),
            "POST": Check(
                ok=DONE,
                needs="deploy",
                body={
                    "environment": "staging",
                    "endpoint": "https://matrix.example.org/deploy",
                    "traffic_share": "100",
                    "confirmed": "on",
                },
            ),
        },
    ),
    "registry:deployment-canary": Route(
        ui=True,
        kwargs=one(lambda s: {"pk": matrix_split(s).pk}),
        methods={
            "GET": Check(ok=PAGE, needs="deploy"),
            "POST": Check(
                ok=DONE,
                needs="deploy",
                body={"version": "3", "traffic_share": "10", "confirmed": "on"},
            ),
        },
    ),
    "registry:deployment-rollback": Route(
        ui=True,
        kwargs=one(lambda s: {"pk": s.deployment.pk}),
        methods={
            "GET": Check(ok=PAGE, needs="deploy"),
            "POST": Check(ok=DONE, needs="deploy", body={"to_version": "1", "reason": "m"}),
        },
    ),
    "registry:deployment-retire": Route(
        ui=True,
        kwargs=one(lambda s: {"pk": s.deployment.pk}),
        methods={"GET": Check(ok=PAGE, needs="deploy"), "POST": Check(ok=DONE, needs="deploy")},
    ),
    "registry:deployment-settings": Route(
        ui=True,
        kwargs=one(lambda s: {"pk": s.deployment.pk}),
        methods={
            "GET": Check(ok=PAGE, needs="change"),
            "POST": Check(
                ok=DONE, needs="change", body={"positive_label": "1", "accuracy_at_risk": "0.8"}
            ),
        },
    ),
    "governance:model-card": Route(
        ui=True,
        kwargs=one(lambda s: {"slug": s.model.slug, "number": s.v3.number}),
        methods={
            "GET": Check(ok=PAGE),
            "POST": Check(ok=DONE, needs="change", body={"limitations": "matrix"}),
        },
    ),
    # The model inventory's export: no object in the URL (its format is), every signed-in user
    # gets the models they may view (LISTS checks that none of B's leaks).
    "monitoring:model-inventory-export": Route(
        ui=True,
        kwargs=lambda world, side: [("", {"fmt": "json"})],
        methods={"GET": Check(expect=lambda role, side: LOGIN if role == "anonymous" else 200)},
    ),
    "registry:model-inventory-edit": Route(
        ui=True,
        kwargs=one(lambda s: {"slug": s.model.slug}),
        methods={
            "GET": Check(ok=PAGE),
            "POST": Check(
                ok=DONE,
                needs="change",
                body={
                    "developer": "matrix",
                    "regulatory_class": "minimal",
                    "validation_status": "validated",
                },
            ),
        },
    ),
    # --- the readiness checklist pages (governance/readiness/views.py): read by whoever sees
    # the version; answered with the change right ---
    "readiness:checklist": Route(
        ui=True,
        kwargs=one(lambda s: {"slug": s.model.slug, "number": s.v3.number}),
        methods={"GET": Check(ok=PAGE)},
    ),
    "readiness:crosswalk": Route(
        ui=True,
        kwargs=one(lambda s: {"slug": s.model.slug, "number": s.v3.number}),
        methods={"GET": Check(ok=PAGE)},
    ),
    "readiness:answer": Route(
        ui=True,
        kwargs=checklist_item,
        methods={
            "GET": Check(ok=PAGE),
            "POST": Check(ok=DONE, needs="change", body=answer_body),
        },
    ),
    "approvals:request-new": Route(
        ui=True,
        kwargs=one(lambda s: {"version_pk": s.v3.pk}),
        methods={
            "GET": Check(ok=PAGE),
            "POST": Check(ok=DONE, needs="change", body={"kind": "version", "comment": "m"}),
        },
    ),
    # --- the administration area and my tokens (issue #17, part 5) ---
    "governance:model-grants": Route(
        ui=True,
        kwargs=one(lambda s: {"slug": s.model.slug}),
        methods={"GET": Check(expect=grant_readers)},
    ),
    "administration:policy-edit": Route(
        ui=True,
        # A policy belongs to a risk tier, not to a model: each column names its model's tier.
        kwargs=one(lambda s: {"risk_tier": s.model.risk_tier}),
        methods={
            "GET": Check(expect=administrators(PAGE)),
            "POST": Check(
                expect=administrators(DONE),
                body={"min_approvals": "2", "expiry_days": "99", "reason": "matrix"},
            ),
        },
    ),
    # A user belongs to no model: each column names its model's owner.
    "administration:user-detail": Route(
        ui=True,
        kwargs=one(lambda s: {"pk": s.model.owner.pk}),
        methods={"GET": Check(expect=administrators(PAGE))},
    ),
    "administration:user-roles": Route(
        ui=True,
        kwargs=one(lambda s: {"pk": s.model.owner.pk}),
        methods={"POST": Check(expect=administrators(DONE), body={"roles": ["reviewers"]})},
    ),
    "administration:user-active": Route(
        ui=True,
        kwargs=one(lambda s: {"pk": s.model.owner.pk}),
        methods={"POST": Check(expect=administrators(DONE), body={"active": "0"})},
    ),
    "administration:user-token-revoke": Route(
        ui=True,
        kwargs=one(lambda s: {"pk": s.model.owner.pk, "token_pk": matrix_token(s).pk}),
        methods={"POST": Check(expect=administrators(DONE))},
    ),
    "account:token-revoke": Route(
        ui=True,
        kwargs=one(lambda s: {"pk": matrix_token(s).pk}),
        methods={"POST": Check(expect=token_holder_only)},
    ),
    # --- retraining (issue #15 parts 4-5): read with the view right, changed with change ---
    "api:retraining-policy": Route(
        ui=False,
        kwargs=one(lambda s: {"slug": matrix_retraining_run(s).model.slug}),
        methods={
            "GET": Check(),
            "PUT": Check(needs="change", body={"every_days": 30}, fmt="json"),
        },
    ),
    "api:retraining-runs": Route(
        ui=False,
        kwargs=one(lambda s: {"slug": matrix_retraining_run(s).model.slug}),
        methods={"GET": Check(), "POST": Check(ok=201, needs="change", body={}, fmt="json")},
    ),
    "api:retraining-run-detail": Route(
        ui=False,
        kwargs=one(lambda s: {"pk": matrix_retraining_run(s).pk}),
        methods={"GET": Check()},
    ),
    "api:retraining-run-cancel": Route(
        ui=False,
        kwargs=one(lambda s: {"pk": matrix_retraining_run(s).pk}),
        methods={"POST": Check(needs="change")},
    ),
    "api:retraining-run-result": Route(
        ui=False,
        kwargs=one(lambda s: {"pk": matrix_retraining_run(s).pk}),
        # The trainer's callback: an unsigned body is refused (403) after the visibility
        # check, whoever sends it; tests/governance/retraining covers the signed path.
        methods={"POST": Check(ok=403, needs="change", body={"version": 1}, fmt="json")},
    ),
    "governance:retraining": Route(
        ui=True,
        kwargs=one(lambda s: {"slug": matrix_retraining_run(s).model.slug}),
        methods={
            "GET": Check(ok=PAGE),
            "POST": Check(ok=DONE, needs="change", body=RETRAINING_FORM),
        },
    ),
    "governance:retraining-request": Route(
        ui=True,
        kwargs=one(lambda s: {"slug": matrix_retraining_run(s).model.slug}),
        methods={"POST": Check(ok=DONE, needs="change", body={"reason": "matrix"})},
    ),
    "governance:retraining-run": Route(
        ui=True,
        kwargs=one(lambda s: {"pk": matrix_retraining_run(s).pk}),
        methods={"GET": Check(ok=PAGE)},
    ),
}

# Cells that show a bug: (route, method, role, side) -> what is wrong. Each runs as its own
# xfail(strict=True) test below and is left out of the route's matrix test.
KNOWN_BUGS: dict[tuple[str, str, str, str], str] = {}

# Methods a route does not declare should answer 405; these answer otherwise. The read-only
# pages are plain @login_required functions without require_GET / require_safe, so POST, PUT,
# PATCH and DELETE render the page (200) as a GET would; request-new treats anything but POST
# as a GET. Nothing is written and visibility is the GET's (404 for an invisible object).
_READS_ANY_METHOD = "a read-only page answers {method} with 200 (rendered as a GET), not 405"
NOT_405_BUGS: dict[tuple[str, str], str] = {}


def expected(route: Route, check: Check, role: str, side: str) -> Expected:
    if (role, side) in check.overrides:
        return check.overrides[(role, side)]
    if check.expect is not None:
        return check.expect(role, side)
    if role == "anonymous":
        return LOGIN if route.ui else 401
    if not sees(role, side):
        return 404
    if check.needs and check.needs not in RIGHTS[side][role]:
        return REFUSED if route.ui else 403
    return check.ok


def matches(observed: int | str, want: Expected) -> bool:
    return observed in want if isinstance(want, tuple) else observed == want


# --- fixtures ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker, tmp_path_factory):
    """Built once for the module inside a transaction rolled back at its end; each test runs in
    a savepoint inside it, and each request in another (matrix_support.call)."""
    from django.db import transaction

    media = tmp_path_factory.mktemp("matrix-media")
    with django_db_blocker.unblock(), override_settings(MEDIA_ROOT=media):
        outer = transaction.atomic()
        outer.__enter__()
        try:
            yield ms.build_world()
        finally:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)


@pytest.fixture(autouse=True)
def _media_in_tmp(db, world):
    """Replaces conftest's per-test MEDIA_ROOT: the world's files live in the module's folder."""


@pytest.fixture(scope="module")
def clients(world):
    return ms.clients(world)


def url_of(name: str, kwargs: dict[str, Any]) -> str:
    return reverse(name, kwargs=kwargs)


def run_cell(
    world: World,
    clients: dict[str, Any],
    name: str,
    method: str,
    role: str,
    kwargs: dict[str, Any],
) -> Outcome:
    check = ROUTES[name].methods.get(method, Check())
    body = check.body(world) if callable(check.body) else check.body
    return ms.call(clients[role], method, url_of(name, kwargs), body, check.fmt)


# --- the route list ------------------------------------------------------------------------------


def test_every_route_that_takes_an_object_id_is_in_the_matrix(world):
    collected = ms.collect_object_routes()
    missing = sorted(set(collected) - set(ROUTES))
    stale = sorted(set(ROUTES) - set(collected))
    assert not missing, (
        f"these routes take an object id but are not in the permission matrix: {missing}. "
        "Add each to ROUTES in tests/test_permission_matrix.py (its kwargs for model A's and "
        "model B's object, every method it serves, what each role should get)."
    )
    assert not stale, f"ROUTES names routes that no longer exist: {stale}"
    for name, route in ROUTES.items():
        for side in SIDES:
            for _, kwargs in route.kwargs(world, side):
                assert set(kwargs) == collected[name].kwargs, name
                url_of(name, kwargs)


def test_the_matrix_declares_the_methods_each_class_based_view_serves():
    for name, found in ms.collect_object_routes().items():
        if found.methods is not None:  # function views are probed below instead
            assert set(ROUTES[name].methods) == set(found.methods), (
                f"{name} serves {sorted(found.methods)}; the matrix declares "
                f"{sorted(ROUTES[name].methods)}"
            )


def observed_relation(world: World, role: str, side: str) -> str:
    """The relation the world's rows give the role's user to the side's model."""
    from guardian.shortcuts import get_user_perms

    from registry.roles import AUDITORS, REVIEWERS

    user = world.users[role]
    if user is None:
        return "anonymous"
    if user.is_superuser or user.groups.filter(name__in=(REVIEWERS, AUDITORS)).exists():
        return "global role"
    here, other = world.side(side).model, world.side("B" if side == "A" else "A").model
    if here.owner_id == user.pk:
        return "owner"
    if get_user_perms(user, here):
        return "granted on this model"
    if other.owner_id == user.pk or get_user_perms(user, other):
        return "granted on another model only"
    return "none"


def test_the_world_gives_each_role_the_relation_the_matrix_names(world):
    wrong = [
        f"{role} on {side}: the matrix says {relation(role, side)!r}, the world gives "
        f"{observed_relation(world, role, side)!r}"
        for role in ms.ROLES
        for side in SIDES
        if relation(role, side) != observed_relation(world, role, side)
    ]
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize("name", list(ROUTES))
def test_every_method_of_a_route_is_asked_of_every_relation(world, name):
    route = ROUTES[name]
    reached = set()
    for side in SIDES:
        assert route.kwargs(world, side), f"{name} names no object of model {side}"
        reached |= {relation(role, side) for role in ms.ROLES}
    missing = set(RELATIONS) - reached
    assert not missing, f"{name}: no cell for {sorted(missing)}"
    assert route.methods, f"{name} declares no method"


# --- every cell --------------------------------------------------------------------------------


def route_method_params() -> list[Any]:
    """One test per route and method over every role and side, plus one xfail test per cell
    listed in KNOWN_BUGS (left out of its route's test)."""
    params = []
    for name, route in ROUTES.items():
        for method in route.methods:
            params.append(pytest.param(name, method, None, id=f"{name} {method}"))
            params += [
                pytest.param(
                    name,
                    method,
                    (role, side),
                    id=f"{name} {method} {role} {side}",
                    marks=pytest.mark.xfail(strict=True, reason=reason),
                )
                for (n, m, role, side), reason in KNOWN_BUGS.items()
                if (n, m) == (name, method)
            ]
    return params


@pytest.mark.parametrize(("name", "method", "only"), route_method_params())
def test_each_role_gets_the_status_the_matrix_expects(world, clients, name, method, only):
    route = ROUTES[name]
    check = route.methods[method]
    wrong = []
    for side in SIDES:
        for variant, kwargs in route.kwargs(world, side):
            for role in ms.ROLES:
                known = (name, method, role, side) in KNOWN_BUGS
                if (only is None and known) or (only is not None and only != (role, side)):
                    continue
                want = expected(route, check, role, side)
                outcome = run_cell(world, clients, name, method, role, kwargs)
                got = outcome.label()
                if not matches(got, want):
                    where = f"{side}/{variant}" if variant else side
                    wrong.append(
                        f"{role:12} {where:14} ({relation(role, side)}) want {want!s:8} "
                        f"got {got!s:8} {outcome.detail()}"
                    )
    assert not wrong, f"{method} {name}:\n" + "\n".join(wrong)


UNDECLARED = [
    (name, method)
    for name, route in ROUTES.items()
    for method in ALL_METHODS
    if method not in route.methods
]


@pytest.mark.parametrize(
    ("name", "method"),
    [
        pytest.param(n, m, marks=pytest.mark.xfail(strict=True, reason=NOT_405_BUGS[(n, m)]))
        if (n, m) in NOT_405_BUGS
        else (n, m)
        for n, m in UNDECLARED
    ],
    ids=[f"{n} {m}" for n, m in UNDECLARED],
)
def test_a_method_the_route_does_not_serve_answers_405(world, clients, name, method):
    _, kwargs = ROUTES[name].kwargs(world, "A")[0]
    outcome = ms.call(clients["superuser"], method, url_of(name, kwargs))
    assert outcome.status == 405, f"{method} {name}: {outcome.status} {outcome.detail()}"


# --- lists, counts, searches and filters ---------------------------------------------------------


def api_count(outcome: Outcome) -> int:
    data = json.loads(outcome.body)
    if isinstance(data, dict) and "count" in data:
        return data["count"]
    if isinstance(data, dict) and "serving" in data:
        return len(data["serving"])
    if isinstance(data, dict) and "nodes" in data:
        return len(data["nodes"])
    return len(data)


def page_count(outcome: Outcome) -> int:
    return outcome.context["page_obj"].paginator.count


def home_counts(outcome: Outcome) -> tuple[int, int, int]:
    c = outcome.context
    return (c["model_count"], c["version_count"], c["active_deployment_count"])


def a_count(queryset_of_a: Callable[[World], Any]) -> Callable[[World, str], int]:
    """A's objects for a role that sees A, none for one that does not."""
    return lambda world, role: queryset_of_a(world).count() if sees(role, "A") else 0


def nothing(world: World, role: str) -> int:
    return 0


def no_params(world: World) -> dict[str, str]:
    return {}


@dataclass(frozen=True)
class ListCheck:
    path: Callable[[World], str]
    params: Callable[[World], dict[str, str]] = no_params
    status: Callable[[str], int] = lambda role: 200
    count: Callable[[World, str], Any] | None = None  # what `read` should give for the role
    read: Callable[[Outcome], Any] = api_count
    shows_b: bool = False  # the unfiltered list does show B to an auditor (the check has teeth)
    accept: str = ""  # "text/html": DRF's browsable API, with its filter and POST forms


def for_a_viewers(status: int = 404) -> Callable[[str], int]:
    """200 for roles that see model A, else `status` (a page about one of A's objects)."""
    return lambda role: 200 if sees(role, "A") else status


def audit_api_status(role: str) -> int:
    """The audit API reads by the audit page's rule (audit_visible): every signed-in user gets
    the entries they may read, so the lists answer 200 and must show nothing of B."""
    return 401 if role == "anonymous" else 200


def versions_of_a(world: World) -> Any:
    return ModelVersion.objects.filter(model=world.a.model)


def active_of_a(world: World) -> int:
    return Deployment.objects.filter(version__model=world.a.model, status="active").count()


def lineage_of_a(world: World) -> int:
    """The nodes around A's dataset that are A's: itself, v1, v1's artifacts and deployments."""
    v1 = world.a.v1
    return 2 + v1.artifacts.count() + v1.deployments.count()


# The UI's filter menus offer only values the user may see; a value that is not on offer
# (B's owner, team or slug) is dropped with a form error and the list stays unfiltered.
UNFILTERED = "unfiltered"


def now_iso(world: World) -> str:
    from django.utils import timezone

    return timezone.now().isoformat()


LISTS: dict[str, ListCheck] = {
    # --- API lists ---
    "api models": ListCheck(
        lambda w: "/api/v1/models/", count=lambda w, r: int(sees(r, "A")), shows_b=True
    ),
    "api models searched for B": ListCheck(
        lambda w: "/api/v1/models/", lambda w: {"search": ms.B_MARKER}, count=nothing
    ),
    "api models filtered by B's owner": ListCheck(
        lambda w: "/api/v1/models/", lambda w: {"owner": w.b.model.owner.username}, count=nothing
    ),
    "api models filtered by B's team": ListCheck(
        lambda w: "/api/v1/models/", lambda w: {"team": w.b.model.team}, count=nothing
    ),
    "api versions": ListCheck(
        lambda w: "/api/v1/versions/", count=a_count(versions_of_a), shows_b=True
    ),
    "api versions filtered by B": ListCheck(
        lambda w: "/api/v1/versions/", lambda w: {"model": w.b.model.slug}, count=nothing
    ),
    "api versions searched for B": ListCheck(
        lambda w: "/api/v1/versions/", lambda w: {"search": ms.B_MARKER}, count=nothing
    ),
    "api artifacts": ListCheck(
        lambda w: "/api/v1/artifacts/",
        count=a_count(lambda w: Artifact.objects.filter(version__model=w.a.model)),
        shows_b=True,
    ),
    "api artifacts filtered by B": ListCheck(
        lambda w: "/api/v1/artifacts/", lambda w: {"model": w.b.model.slug}, count=nothing
    ),
    "api artifacts filtered by B's digest": ListCheck(
        lambda w: "/api/v1/artifacts/", lambda w: {"sha256": w.b.artifact.sha256}, count=nothing
    ),
    "api datasets": ListCheck(
        lambda w: "/api/v1/datasets/",
        count=a_count(lambda w: Dataset.objects.filter(model=w.a.model)),
        shows_b=True,
    ),
    "api datasets filtered by B": ListCheck(
        lambda w: "/api/v1/datasets/", lambda w: {"model": w.b.model.slug}, count=nothing
    ),
    "api datasets filtered by B's dataset name": ListCheck(
        lambda w: "/api/v1/datasets/", lambda w: {"name": w.b.dataset.name}, count=nothing
    ),
    "api datasets filtered by B's digest": ListCheck(
        lambda w: "/api/v1/datasets/", lambda w: {"sha256": w.b.dataset.sha256}, count=nothing
    ),
    "api deployments": ListCheck(
        lambda w: "/api/v1/deployments/",
        count=a_count(lambda w: Deployment.objects.filter(version__model=w.a.model)),
        shows_b=True,
    ),
    "api deployments filtered by B": ListCheck(
        lambda w: "/api/v1/deployments/", lambda w: {"model": w.b.model.slug}, count=nothing
    ),
    "api deployments searched for B": ListCheck(
        lambda w: "/api/v1/deployments/", lambda w: {"search": ms.B_MARKER}, count=nothing
    ),
    "api deployments filtered by B's endpoint": ListCheck(
        lambda w: "/api/v1/deployments/",
        lambda w: {"endpoint": w.b.deployment.endpoint},
        count=nothing,
    ),
    "api approval requests": ListCheck(
        lambda w: "/api/v1/approvals/",
        count=a_count(lambda w: ApprovalRequest.objects.filter(version__model=w.a.model)),
        shows_b=True,
    ),
    "api approval requests pending": ListCheck(
        lambda w: "/api/v1/approvals/",
        lambda w: {"state": "pending"},
        count=a_count(
            lambda w: ApprovalRequest.objects.filter(version__model=w.a.model, state="pending")
        ),
    ),
    "api approval requests filtered by B's version": ListCheck(
        lambda w: "/api/v1/approvals/", lambda w: {"version": str(w.b.v2.pk)}, count=nothing
    ),
    "api approval inbox": ListCheck(lambda w: "/api/v1/approvals/inbox/", count=nothing),
    "api notifications": ListCheck(
        lambda w: "/api/v1/notifications/",
        count=lambda w, r: Notification.objects.filter(
            recipient=w.users[r], subject__icontains=ms.A_MARKER
        ).count(),
    ),
    "api alerts": ListCheck(
        lambda w: "/api/v1/alerts/",
        count=a_count(lambda w: Alert.objects.filter(deployment__version__model=w.a.model)),
        shows_b=True,
    ),
    "api open alerts": ListCheck(
        lambda w: "/api/v1/alerts/",
        lambda w: {"state": "open"},
        count=a_count(
            lambda w: Alert.objects.filter(deployment__version__model=w.a.model, state="open")
        ),
    ),
    "api alert rules": ListCheck(
        lambda w: "/api/v1/alert-rules/",
        count=a_count(lambda w: AlertRule.objects.filter(model=w.a.model)),
        shows_b=True,
    ),
    # Counts only (no names): every active deployment of A is on one level of each axis, B's
    # on none (what the portfolio page counts).
    "api monitoring portfolio": ListCheck(
        lambda w: "/api/v1/monitoring/portfolio/",
        count=lambda w, r: active_of_a(w) if sees(r, "A") else 0,
        read=lambda outcome: sum(json.loads(outcome.body)["drift"].values()),
    ),
    "api webhooks": ListCheck(
        lambda w: "/api/v1/webhooks/",
        count=lambda w, r: int("manage_access" in RIGHTS["A"][r]),
    ),
    "api audit events": ListCheck(lambda w: "/api/v1/audit/events/", status=audit_api_status),
    "api audit events of B's model": ListCheck(
        lambda w: "/api/v1/audit/events/",
        lambda w: {"target_type": "registry.registeredmodel", "target_id": str(w.b.model.pk)},
        status=audit_api_status,
    ),
    "api audit export": ListCheck(
        lambda w: "/api/v1/audit/events/export.csv", status=audit_api_status, read=len
    ),
    "api production at a moment": ListCheck(
        lambda w: "/api/v1/audit/production-at/",
        lambda w: {"at": now_iso(w)},
        count=lambda w, r: int(sees(r, "A")),
        shows_b=True,
    ),
    "api production at a moment of B": ListCheck(
        lambda w: "/api/v1/audit/production-at/",
        lambda w: {"at": now_iso(w), "model": w.b.model.slug},
        status=lambda role: 404,
    ),
    "api versions of model A": ListCheck(
        lambda w: f"/api/v1/models/{w.a.model.slug}/versions/",
        status=for_a_viewers(),
        count=a_count(versions_of_a),
    ),
    "api artifacts of A's version": ListCheck(
        lambda w: f"/api/v1/versions/{w.a.v1.pk}/artifacts/",
        status=for_a_viewers(),
        count=a_count(lambda w: w.a.v1.artifacts.all()),
    ),
    # The graph around A's dataset reaches B's v1 (trained on it): B's node stays out of the
    # nodes; `hidden_nodes` says that one linked node is not shown (a deliberate disclosure of
    # the number, see templates/registry/_lineage.html).
    "api lineage around A's dataset": ListCheck(
        lambda w: f"/api/v1/lineage/dataset/{w.a.dataset.pk}/",
        status=for_a_viewers(),
        count=lambda w, r: lineage_of_a(w) if sees(r, "A") else 0,
        shows_b=True,
    ),
    "api approval policies": ListCheck(lambda w: "/api/v1/approval-policies/"),
    "api readiness template": ListCheck(lambda w: "/api/v1/readiness/templates/"),
    # --- pages ---
    # The administration area is for admins: every role with rights on A only gets 403; a
    # user's own tokens page lists their tokens only (none of them names B).
    "administration users": ListCheck(lambda w: "/administration/users/", status=lambda r: 403),
    "administration users searched for B": ListCheck(
        lambda w: "/administration/users/", lambda w: {"q": ms.B_MARKER}, status=lambda r: 403
    ),
    "administration policies": ListCheck(
        lambda w: "/administration/policies/", status=lambda r: 403
    ),
    "my api tokens": ListCheck(lambda w: "/account/tokens/"),
    "home": ListCheck(
        lambda w: "/",
        read=home_counts,
        count=lambda w, r: (  # models, versions, active deployments
            (1, versions_of_a(w).count(), active_of_a(w)) if sees(r, "A") else (0, 0, 0)
        ),
        shows_b=True,
    ),
    "model list": ListCheck(
        lambda w: "/registry/models/",
        read=page_count,
        count=lambda w, r: int(sees(r, "A")),
        shows_b=True,
    ),
    "model list searched for B": ListCheck(
        lambda w: "/registry/models/", lambda w: {"q": ms.B_MARKER}, read=page_count, count=nothing
    ),
    "model list filtered by B's owner": ListCheck(
        lambda w: "/registry/models/",
        lambda w: {"owner": w.b.model.owner.username},
        read=page_count,
        count=lambda w, r: UNFILTERED,
    ),
    "model list filtered by B's team": ListCheck(
        lambda w: "/registry/models/",
        lambda w: {"team": w.b.model.team},
        read=page_count,
        count=lambda w, r: UNFILTERED,
    ),
    "model list by deployments": ListCheck(
        lambda w: "/registry/models/",
        lambda w: {"sort": "-deployments"},
        read=page_count,
        count=lambda w, r: int(sees(r, "A")),
    ),
    "deployment list": ListCheck(
        lambda w: "/registry/deployments/",
        read=page_count,
        count=a_count(lambda w: Deployment.objects.filter(version__model=w.a.model)),
        shows_b=True,
    ),
    "deployment list searched for B": ListCheck(
        lambda w: "/registry/deployments/",
        lambda w: {"q": ms.B_MARKER},
        read=page_count,
        count=nothing,
    ),
    "deployment list filtered by B": ListCheck(
        lambda w: "/registry/deployments/",
        lambda w: {"model": w.b.model.slug},
        read=page_count,
        count=lambda w, r: UNFILTERED,
    ),
    "approval request list": ListCheck(
        lambda w: "/governance/approvals/",
        read=page_count,
        count=a_count(lambda w: ApprovalRequest.objects.filter(version__model=w.a.model)),
        shows_b=True,
    ),
    "approval request list filtered by B's version": ListCheck(
        lambda w: "/governance/approvals/",
        lambda w: {"version": str(w.b.v2.pk)},
        read=page_count,
        count=nothing,
    ),
    "approval inbox": ListCheck(lambda w: "/governance/approvals/inbox/", read=page_count),
    "notification page": ListCheck(
        lambda w: "/governance/approvals/notifications/",
        read=page_count,
        count=lambda w, r: Notification.objects.filter(recipient=w.users[r]).count(),
    ),
    "audit trail": ListCheck(lambda w: "/governance/audit/", read=page_count, shows_b=True),
    "audit trail filtered by B's owner": ListCheck(
        lambda w: "/governance/audit/",
        lambda w: {"actor": w.b.model.owner.username},
        read=page_count,
        count=nothing,
    ),
    "audit trail of model creations": ListCheck(
        lambda w: "/governance/audit/",
        lambda w: {"action": "registry.model.created"},
        read=page_count,
        count=lambda w, r: 1 if sees(r, "A") else UNFILTERED,
    ),
    "production at a moment": ListCheck(
        lambda w: "/governance/production-at/", lambda w: {"at": now_iso(w)}, shows_b=True
    ),
    "job runs": ListCheck(
        lambda w: "/monitoring/jobs/",
        read=page_count,
        count=lambda w, r: int(r == "owner"),  # each sees the runs they requested
        shows_b=True,
    ),
    "job progress of B's run": ListCheck(
        lambda w: "/monitoring/jobs/progress/",
        lambda w: {"ids": f"{w.b.job.pk}"},
        read=lambda o: len(json.loads(o.body)["runs"]),
        count=nothing,
    ),
    "monitoring portfolio": ListCheck(
        lambda w: "/monitoring/",
        read=lambda o: o.context["summary"]["total"],  # counts only: no names to leak
        count=lambda w, r: active_of_a(w) if sees(r, "A") else 0,
    ),
    "model inventory": ListCheck(
        lambda w: "/monitoring/models/",
        read=page_count,
        count=lambda w, r: int(sees(r, "A")),
        shows_b=True,
    ),
    "model inventory export (JSON)": ListCheck(
        lambda w: "/monitoring/models/export.json",
        read=lambda o: len(json.loads(o.body)["models"]),
        count=lambda w, r: int(sees(r, "A")),
        shows_b=True,
    ),
    "model inventory searched for B": ListCheck(
        lambda w: "/monitoring/models/export.csv",
        lambda w: {"q": w.b.model.name},
        read=lambda o: len(o.body.strip().splitlines()) - 1,
        count=nothing,
    ),
    "deployment inventory": ListCheck(
        lambda w: "/monitoring/deployments/",
        lambda w: {"lifecycle": "all"},
        read=page_count,
        count=a_count(lambda w: Deployment.objects.filter(version__model=w.a.model)),
        shows_b=True,
    ),
    "deployment inventory searched for B": ListCheck(
        lambda w: "/monitoring/deployments/",
        lambda w: {"q": ms.B_MARKER, "lifecycle": "all"},
        read=page_count,
        count=nothing,
    ),
    "deployment inventory filtered by B's model": ListCheck(
        lambda w: "/monitoring/deployments/",
        lambda w: {"model": w.b.model.slug},
        read=page_count,
        count=lambda w, r: UNFILTERED,
    ),
    "alert list": ListCheck(lambda w: "/monitoring/alerts/", lambda w: {"state": "all"}),
    "alert rule list": ListCheck(lambda w: "/monitoring/rules/"),
    "A's deployment alert rules": ListCheck(
        lambda w: f"/monitoring/deployments/{w.a.deployment.pk}/rules/", status=for_a_viewers()
    ),
    "webhook list": ListCheck(lambda w: "/governance/approvals/webhooks/", read=page_count),
    "model A's page": ListCheck(
        lambda w: f"/registry/models/{w.a.model.slug}/", status=for_a_viewers()
    ),
    "A's version page": ListCheck(
        lambda w: f"/registry/models/{w.a.model.slug}/v1/", status=for_a_viewers()
    ),
    "A's dataset page": ListCheck(
        lambda w: f"/registry/datasets/{w.a.dataset.pk}/", status=for_a_viewers(), shows_b=True
    ),
    "A's deployment page": ListCheck(
        lambda w: f"/registry/deployments/{w.a.deployment.pk}/", status=for_a_viewers()
    ),
    "A's approval request page": ListCheck(
        lambda w: f"/governance/approvals/{w.a.pending.pk}/", status=for_a_viewers()
    ),
}

# The API renders JSON only (no browsable HTML API, whose forms built menus from unrestricted
# querysets): an HTML-only request is refused rather than served.
LEAK_BUGS: dict[tuple[str, str], str] = {}


def test_the_api_serves_no_browsable_html(client):
    response = client.get("/api/v1/models/", HTTP_ACCEPT="text/html")
    assert response.status_code in (401, 403, 406)
    assert b"<form" not in response.content


def without_query(body: str, params: dict[str, str]) -> str:
    """The body with the values the client sent taken out (search boxes and error messages
    echo them), lower-cased."""
    text = body.lower()
    for value in params.values():
        for form in (value, quote(value, safe=""), quote(value)):
            text = text.replace(form.lower(), "")
    return text


def list_problems(world: World, clients: dict[str, Any], name: str, role: str) -> list[str]:
    check = LISTS[name]
    params = check.params(world)
    url = check.path(world) + (f"?{urlencode(params)}" if params else "")
    outcome = ms.call(clients[role], "GET", url, accept=check.accept)
    problems = []
    want_status = check.status(role)
    if outcome.status != want_status:
        return [f"{role}: GET {url} answered {outcome.status}, want {want_status}"]
    if ms.B_MARKER in without_query(outcome.body, params):
        at = without_query(outcome.body, params).find(ms.B_MARKER)
        shown = without_query(outcome.body, params)[max(0, at - 60) : at + 40]
        problems.append(f"{role}: GET {url} shows model B: …{shown!r}…")
    if check.count is not None and outcome.status == 200:
        got, want = check.read(outcome), check.count(world, role)
        if want == UNFILTERED:
            want = check.read(ms.call(clients[role], "GET", check.path(world)))
        if got != want:
            problems.append(f"{role}: GET {url} counts {got}, want {want} (model A's only)")
    return problems


LIST_ROLES = [
    (name, role) for name in LISTS for role in ms.A_ONLY_ROLES if (name, role) not in LEAK_BUGS
]


@pytest.mark.parametrize("name", list(LISTS))
def test_a_list_shows_nothing_of_model_b_to_users_with_rights_on_model_a_only(world, clients, name):
    problems = []
    for role in ms.A_ONLY_ROLES:
        if (name, role) not in LEAK_BUGS:
            problems += list_problems(world, clients, name, role)
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize(
    ("name", "role"),
    [
        pytest.param(name, role, marks=pytest.mark.xfail(strict=True, reason=reason))
        for (name, role), reason in LEAK_BUGS.items()
    ],
)
def test_a_known_leak_shows_nothing_of_model_b(world, clients, name, role):
    assert not list_problems(world, clients, name, role)


@pytest.mark.parametrize("name", [n for n, check in LISTS.items() if check.shows_b])
def test_the_same_list_shows_model_b_to_an_auditor_so_the_check_has_teeth(world, clients, name):
    check = LISTS[name]
    params = check.params(world)
    url = check.path(world) + (f"?{urlencode(params)}" if params else "")
    outcome = ms.call(clients["auditor"], "GET", url)
    assert outcome.status == 200
    assert ms.B_MARKER in outcome.body.lower(), url


# --- ids of model B inside a request -------------------------------------------------------------
# A write (or a filter) that names one of B's objects in its body or query must answer exactly as
# for an object that does not exist: anything else tells a user with rights on A only that B's
# object is there.

MISSING_ID = 987654321
MISSING_SLUG = "no-such-model"


@dataclass(frozen=True)
class Reference:
    method: str
    path: Callable[[World], str]
    payload: Callable[[World, Any], dict[str, Any]]  # the body (or query) around the reference
    b_ref: Callable[[World], Any]  # B's object, as the request names it
    missing: Any = MISSING_ID
    fmt: str = "json"
    role: str = "owner"  # model A's owner: change, deploy and manage access on A


def csv_file() -> Any:
    from tests.factories import csv_upload

    return csv_upload()


REFERENCES: dict[str, Reference] = {
    "a dataset uploaded to B's model": Reference(
        "POST",
        lambda w: "/api/v1/datasets/",
        lambda w, ref: {"model": ref, "name": "m", "kind": "training", "file": csv_file()},
        lambda w: w.b.model.slug,
        missing=MISSING_SLUG,
        fmt="multipart",
    ),
    "a dataset derived from B's dataset": Reference(
        "POST",
        lambda w: "/api/v1/datasets/",
        lambda w, ref: {
            "model": w.a.model.slug,
            "name": "m",
            "kind": "training",
            "file": csv_file(),
            "derived_from": ref,
        },
        lambda w: w.b.dataset.pk,
        fmt="multipart",
    ),
    "a deployment of B's version": Reference(
        "POST",
        lambda w: "/api/v1/deployments/",
        lambda w, ref: {"version": ref, "environment": "staging", "endpoint": "https://m.org"},
        lambda w: w.b.v3.pk,
    ),
    "a deployment replacing B's deployment": Reference(
        "POST",
        lambda w: "/api/v1/deployments/",
        lambda w, ref: {
            "version": w.a.v3.pk,
            "environment": "staging",
            "endpoint": w.a.deployment.endpoint,
            "replaces": ref,
        },
        lambda w: w.b.deployment.pk,
    ),
    "an approval request for B's version": Reference(
        "POST",
        lambda w: "/api/v1/approvals/",
        lambda w, ref: {"kind": "version", "version": ref},
        lambda w: w.b.v3.pk,
    ),
    "a production request replacing B's deployment": Reference(
        "POST",
        lambda w: "/api/v1/approvals/",
        lambda w, ref: {
            "kind": "production",
            "version": w.a.v1.pk,
            "endpoint": "https://m.org",
            "replaces": ref,
        },
        lambda w: w.b.production.pk,
    ),
    "a lineage edge from B's dataset": Reference(
        "POST",
        lambda w: "/api/v1/lineage/edges/",
        lambda w, ref: {
            "upstream_kind": "dataset",
            "upstream_id": ref,
            "downstream_kind": "version",
            "downstream_id": w.a.v3.pk,
            "relation": "trained_on",
        },
        lambda w: w.b.dataset.pk,
    ),
    "a version trained on B's dataset": Reference(
        "POST",
        lambda w: f"/api/v1/models/{w.a.model.slug}/versions/",
        lambda w, ref: {"training_datasets": [ref]},
        lambda w: w.b.dataset.pk,
    ),
    "readiness evidence from B's artifact": Reference(
        "POST",
        lambda w: f"/api/v1/versions/{w.a.v3.pk}/readiness/answers/",
        lambda w, ref: answer_body(w) | {"evidence_artifact": ref},
        lambda w: w.b.artifact.pk,
    ),
    "a webhook on B's model": Reference(
        "POST",
        lambda w: "/api/v1/webhooks/",
        lambda w, ref: {
            "name": "m",
            "url": "https://m.example.org/hook",
            "secret": "s" * 32,
            "model": ref,
        },
        lambda w: w.b.model.slug,
        missing=MISSING_SLUG,
    ),
    "deployments filtered by B's version": Reference(
        "GET",
        lambda w: "/api/v1/deployments/",
        lambda w, ref: {"version": ref},
        lambda w: w.b.v1.pk,
        fmt="",
    ),
    "artifacts filtered by B's version": Reference(
        "GET",
        lambda w: "/api/v1/artifacts/",
        lambda w, ref: {"version": ref},
        lambda w: w.b.v2.pk,
        fmt="",
    ),
    "approval requests filtered by B's version": Reference(
        "GET",
        lambda w: "/api/v1/approvals/",
        lambda w, ref: {"version": ref},
        lambda w: w.b.v2.pk,
        fmt="",
    ),
    "report exports filtered by B's version": Reference(
        "GET",
        lambda w: "/api/v1/reports/exports/",
        lambda w, ref: {"version": ref},
        lambda w: w.b.v1.pk,
        fmt="",
    ),
    "report exports filtered by B's deployment": Reference(
        "GET",
        lambda w: "/api/v1/reports/exports/",
        lambda w, ref: {"deployment": ref},
        lambda w: w.b.deployment.pk,
        fmt="",
    ),
    "a report export of B's version": Reference(
        "POST",
        lambda w: "/api/v1/reports/exports/",
        lambda w, ref: {"version": ref},
        lambda w: w.b.v1.pk,
    ),
    "an alert rule on B's deployment": Reference(
        "POST",
        lambda w: "/api/v1/alert-rules/",
        lambda w, ref: {
            "deployment": ref,
            "source": "status",
            "name": "drift",
            "comparator": "ge",
            "threshold": 1,
        },
        lambda w: w.b.deployment.pk,
    ),
    "the approval request page filtered by B's version": Reference(
        "GET",
        lambda w: "/governance/approvals/",
        lambda w, ref: {"version": ref},
        lambda w: w.b.v2.pk,
        fmt="",
    ),
}

# References whose answer differs for B's object and a missing one: name -> what differs.
_ID_FILTER = (
    "django-filter's ModelChoiceFilter for `version` checks the id against every version: "
    "B's id gives 200 and an empty list, an unknown id 400 'Select a valid choice'"
)
ORACLE_BUGS: dict[str, str] = {}


def answer_to(world: World, clients: dict[str, Any], ref: Reference, value: Any) -> Outcome:
    payload = ref.payload(world, value)
    if ref.method == "GET":
        return ms.call(clients[ref.role], "GET", f"{ref.path(world)}?{urlencode(payload)}")
    return ms.call(clients[ref.role], ref.method, ref.path(world), payload, ref.fmt)


def summary(outcome: Outcome) -> tuple[int, Any]:
    """The status, and for a list the number of rows."""
    if outcome.status != 200 or outcome.context is not None:
        count = page_count(outcome) if outcome.context is not None else None
        return outcome.status, count
    return outcome.status, api_count(outcome)


@pytest.mark.parametrize(
    "name",
    [
        pytest.param(n, marks=pytest.mark.xfail(strict=True, reason=ORACLE_BUGS[n]))
        if n in ORACLE_BUGS
        else n
        for n in REFERENCES
    ],
)
def test_naming_an_object_of_model_b_answers_as_naming_one_that_does_not_exist(
    world, clients, name
):
    ref = REFERENCES[name]
    b_value = ref.b_ref(world)
    for_b = answer_to(world, clients, ref, b_value)
    for_missing = answer_to(world, clients, ref, ref.missing)
    assert summary(for_b) == summary(for_missing), (
        f"{ref.method} {ref.path(world)} naming B's {b_value!r}: {for_b.status} "
        f"{for_b.detail()!r}; naming {ref.missing!r}: {for_missing.status} "
        f"{for_missing.detail()!r}"
    )
    assert ms.B_MARKER not in without_query(for_b.body, {"ref": str(b_value)})
