"""Helpers of the permission matrix (tests/test_permission_matrix.py): the URL walk, the
personas, the two models' worlds, and a request runner that leaves the database as it found it.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth.models import User
from django.contrib.messages import get_messages
from django.db import transaction
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.urls.resolvers import RegexPattern, RoutePattern
from guardian.shortcuts import assign_perm, remove_perm
from rest_framework.test import APIClient

from governance import lineage
from governance.approvals import events
from governance.approvals import services as approvals
from governance.approvals.models import ApprovalRequest, ModelWatch, Notification, WebhookEndpoint
from governance.audit.models import AuditEvent
from governance.lineage.models import Relation
from governance.readiness.selectors import open_required_items
from monitoring.models import JobRun
from registry import services
from registry.models import Artifact, Dataset, Deployment, ModelVersion, RegisteredModel
from registry.roles import AUDITORS, DATA_SCIENTISTS, REVIEWERS
from tests import factories

# --- the URL walk ----------------------------------------------------------------------------

# Namespaces left out of the matrix, and why.
EXCLUDED_NAMESPACES = {
    # Django's admin has its own gate (is_staff plus model permissions, superusers only in
    # Steward) and never goes through restrict(); it is not part of the product's surface.
    "admin": "Django admin: staff-only, guarded by Django's own admin permissions",
}
# A kwarg that names no object: DRF's format suffix (`.json`). A route whose only kwarg is
# this one (the API root) takes no object.
NOT_OBJECT_KWARGS = {"format"}
# Routes whose id names the caller's own object, not a model's: no model grant reaches them.
OWN_OBJECT_ROUTES = {
    # Another user's token is a 404 (tests/portal/test_api_tokens.py).
    "api:token-detail": "the caller's own API token",
    # The invitation's set-password link (Django's password reset token): a signed one-time
    # link for the account it names, not an object id (tests/portal/test_admin_pages.py).
    "account:set-password": "a signed one-time link to the holder's own account",
}


@dataclass(frozen=True)
class CollectedRoute:
    name: str
    kwargs: frozenset[str]
    methods: frozenset[str] | None  # None: a function view, whose methods are probed instead


def _pattern_kwargs(pattern: Any) -> set[str]:
    if isinstance(pattern, RoutePattern):
        return set(pattern.converters)
    if isinstance(pattern, RegexPattern):
        return set(pattern.regex.groupindex)
    return set()


def _served_methods(callback: Any) -> frozenset[str] | None:
    actions = getattr(callback, "actions", None)
    if actions:  # a DRF viewset route: the router's method -> action map
        # DRF adds "head" to that map on the route's first request: leave it out, as below.
        return frozenset(m.upper() for m in actions if m not in ("head", "options"))
    view_class = getattr(callback, "view_class", None)
    if view_class is not None:  # a class-based view: the handlers it defines
        return frozenset(
            m.upper()
            for m in view_class.http_method_names
            if m not in ("head", "options") and hasattr(view_class, m)
        )
    return None


def collect_object_routes() -> dict[str, CollectedRoute]:
    """Every named URL pattern (UI and API) whose route takes an object id, by full name.

    Patterns without kwargs take no object and drop out here: lists (covered by the list leak
    tests), the API root, the schema and its docs, login, logout, the token endpoint."""
    found: dict[str, CollectedRoute] = {}

    def walk(resolver: URLResolver, namespace: str, kwargs: set[str]) -> None:
        for entry in resolver.url_patterns:
            if isinstance(entry, URLResolver):
                ns = namespace
                if entry.namespace:
                    if entry.namespace in EXCLUDED_NAMESPACES:
                        continue
                    ns = f"{namespace}:{entry.namespace}" if namespace else entry.namespace
                walk(entry, ns, kwargs | _pattern_kwargs(entry.pattern))
                continue
            assert isinstance(entry, URLPattern)
            names = (kwargs | _pattern_kwargs(entry.pattern)) - NOT_OBJECT_KWARGS
            if not names:
                continue
            name = f"{namespace}:{entry.name}" if namespace else str(entry.name)
            if name in OWN_OBJECT_ROUTES:
                continue
            route = CollectedRoute(name, frozenset(names), _served_methods(entry.callback))
            if name in found and found[name].kwargs != route.kwargs:
                raise AssertionError(f"{name} is used by routes with different kwargs")
            found[name] = route

    walk(get_resolver(), "", set())
    return found


# --- personas and the two worlds ---------------------------------------------------------------

ROLES = (
    "anonymous",
    "owner",  # owns model A (a data scientist)
    "viewer",  # data scientist granted view on model A only
    "editor",  # granted view and change on model A only
    "change_only",  # granted change (and nothing else) on model A only
    "reviewer",  # reviewers role: global view and approve
    "auditor",  # auditors role: global view
    "outsider",  # signed in, no grants
    "superuser",
)
# The roles with rights on model A only (or on nothing): B must stay invisible to them.
A_ONLY_ROLES = ("owner", "viewer", "editor", "change_only", "outsider")

# Every visible string of model B's world contains this marker, so a body that contains it
# (outside the query the client sent) shows something of model B.
B_MARKER = "zebra"
A_MARKER = "alpha"


@dataclass
class Side:
    """One model's objects."""

    model: RegisteredModel
    dataset: Dataset
    v1: ModelVersion  # approved through the workflow, with a stored model artifact
    v2: ModelVersion  # pending review: a stored model artifact, an open approval request
    v3: ModelVersion  # a draft with a linked (external) model artifact
    artifact: Artifact  # v2's stored model artifact (not frozen)
    first_deployment: Deployment  # v1 in staging, replaced by `deployment`
    deployment: Deployment  # v3 at the same endpoint (so it can be rolled back to v1)
    production: Deployment  # v1 in production, through an approved production request
    approved: ApprovalRequest  # v1's version approval, closed
    pending: ApprovalRequest  # v2's version approval, open
    event: AuditEvent  # the audit entry of the model's creation
    notification: Notification  # addressed to the model's owner
    webhook: WebhookEndpoint
    job: JobRun  # requested by the model's owner, its result names the model's files
    alert_rule: Any = None  # on the model, its name carries the marker (set by build_world)
    alert: Any = None  # an open alert of that rule on `deployment`


@dataclass
class World:
    users: dict[str, User | None]
    a: Side
    b: Side
    item_key: str  # a readiness item v3 may answer

    def side(self, which: str) -> Side:
        return self.a if which == "A" else self.b


def _side(owner: User, marker: str, name: str) -> Side:
    model = factories.registered_model(
        owner=owner, name=name, team=f"{marker}-team", description=f"{marker}-secret model"
    )
    dataset = services.dataset_upload(
        model=model,
        actor=owner,
        upload=factories.csv_upload(
            f"age,income,region\n31,52000.5,north\n{ord(marker[0])},61000.0,south\n",
            name=f"{marker}.csv",
        ),
        name=f"{marker}-train",
        kind="training",
        description=f"{marker}-secret data",
    )
    # v1: trained on the dataset (a lineage edge), a stored model artifact, the checklist
    # settled, approved by a reviewer through a version-approval request.
    v1 = factories.approved_version(
        model=model, description=f"{marker}-secret v1", training_datasets=[dataset.pk]
    )
    endpoint = f"https://{marker}.example.org/predict"
    first_deployment = factories.deployment(version=v1, endpoint=endpoint, description=marker)
    v2 = factories.model_version(model=model, description=f"{marker}-secret v2")
    artifact = services.artifact_upload(
        version=v2,
        actor=owner,
        upload=factories.binary_upload(f"{marker} weights".encode(), name=f"{marker}.joblib"),
        kind="model",
        description=f"{marker}-secret weights",
    )
    pending = approvals.request_version_approval(version=v2, actor=owner, comment=marker)
    v3 = factories.model_version(model=model, description=f"{marker}-secret v3")
    services.artifact_link(
        version=v3,
        actor=owner,
        # Pinned by digest: a version under approval takes no sha256 on a client's word.
        uri=f"oci://{marker}-registry.example.org/model@sha256:"
        + hashlib.sha256(marker.encode()).hexdigest(),
        sha256=hashlib.sha256(marker.encode()).hexdigest(),
        kind="model",
    )
    deployment = factories.deployment(
        version=v3, endpoint=endpoint, replaces=first_deployment, description=marker
    )
    production = factories.production_deployment(
        version=v1, endpoint=f"https://{marker}.example.org/production"
    )
    webhook = WebhookEndpoint.objects.create(
        name=f"{marker}-hook",
        url=f"https://{marker}.example.org/hook",
        secret="s" * 32,
        model=model,
        created_by=owner,
    )
    job = JobRun.objects.create(
        kind="integrity_scan",
        requested_by=owner,
        state="succeeded",
        result={"changed": [f"artifacts/{model.slug}/v1/{marker}.joblib"]},
    )
    event = AuditEvent.objects.get(
        action="registry.model.created",
        target_type="registry.registeredmodel",
        target_id=str(model.pk),
    )
    notification = Notification.objects.filter(recipient=owner).order_by("pk").first()
    assert notification is not None, "the approval of v1 notifies its requester"
    return Side(
        model=model,
        dataset=dataset,
        v1=v1,
        v2=v2,
        v3=v3,
        artifact=artifact,
        first_deployment=first_deployment,
        deployment=deployment,
        production=production,
        approved=ApprovalRequest.objects.get(version=v1, kind="version"),
        pending=pending,
        event=event,
        notification=notification,
        webhook=webhook,
        job=job,
    )


def _add_alerting(side: Side, marker: str) -> None:
    """A rule on the side's model and an open alert of it on the side's deployment."""
    from django.utils import timezone

    from monitoring.models import Alert, AlertRule

    rule = AlertRule.objects.create(
        model=side.model, source="metric", name=f"{marker}_score", comparator="lt", threshold=0.5
    )
    side.alert_rule = rule
    side.alert = Alert.objects.create(
        rule=rule,
        deployment=side.deployment,
        value=0.25,
        message=f"{marker} score is below 0.5",
        dedup_key=f"{rule.pk}:{side.deployment.pk}",
        opened_at=timezone.now(),
    )


def build_world() -> World:
    """Model A (owned by olivia) and model B (owned by bob-zebra), each with a dataset, three
    versions (approved, pending approval, draft), artifacts, two deployments, lineage edges,
    approval requests, a notification, a webhook and a job run; and the personas around them
    (the same names as tests/conftest.py's)."""
    owner = factories.data_scientist("olivia")
    superuser = factories.UserFactory(username="ada", is_superuser=True, is_staff=True)
    users: dict[str, User | None] = {
        "anonymous": None,
        "owner": owner,
        "viewer": factories.UserFactory(username="vera", roles=[DATA_SCIENTISTS]),
        "editor": factories.UserFactory(username="eddie", roles=[DATA_SCIENTISTS]),
        "change_only": factories.UserFactory(username="chad", roles=[DATA_SCIENTISTS]),
        "reviewer": factories.UserFactory(username="rita", roles=[REVIEWERS]),
        "auditor": factories.UserFactory(username="audrey", roles=[AUDITORS]),
        "outsider": factories.UserFactory(username="oscar"),
        "superuser": superuser,
    }
    a = _side(owner, A_MARKER, "Alpha credit")
    b = _side(factories.data_scientist(f"bob-{B_MARKER}"), B_MARKER, f"{B_MARKER.title()} churn")
    viewer, editor = users["viewer"], users["editor"]
    assign_perm("registry.view_registeredmodel", viewer, a.model)
    assign_perm("registry.view_registeredmodel", editor, a.model)
    assign_perm("registry.change_registeredmodel", editor, a.model)
    assign_perm("registry.change_registeredmodel", users["change_only"], a.model)
    # Lineage across the two models: B's v1 was trained on A's dataset as well.
    lineage.link(upstream=a.dataset, downstream=b.v1, relation=Relation.TRAINED_ON, actor=superuser)
    # The viewer watches A; the lifecycle dispatcher (beat runs it every 15 s) catches up.
    ModelWatch.objects.create(model=a.model, user=viewer)
    events.dispatch_pending()
    # The viewer watched B while a grant let them see it; the grant is revoked, then B moves
    # on, and the dispatcher runs again.
    assign_perm("registry.view_registeredmodel", viewer, b.model)
    ModelWatch.objects.create(model=b.model, user=viewer)
    remove_perm("registry.view_registeredmodel", viewer, b.model)
    factories.model_version(model=b.model, description=f"{B_MARKER}-secret v4")
    events.dispatch_pending()
    for side, marker in ((a, A_MARKER), (b, B_MARKER)):
        _add_alerting(side, marker)
    item_key = open_required_items(version=a.v3)[0].key
    return World(users=users, a=a, b=b, item_key=item_key)


# --- requests ----------------------------------------------------------------------------------

# What a UI request came to, besides a plain status code.
LOGIN = "login"  # 302 to the login page
PAGE = "page"  # 200, a page rendered without form errors
DONE = "done"  # 302 with a success message: the form's action happened
REFUSED = "refused"  # 302 with an error message, or the form shown again with an error


def upload(data: bytes, name: str) -> Any:
    """A fresh file for a multipart form (one per request: a file is read once)."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, data)


def clients(world: World) -> dict[str, APIClient]:
    """One client per role, signed in through the session: the user row is read afresh on every
    request, so no permission cache outlives a request."""
    made = {}
    for role, user in world.users.items():
        client = APIClient()
        if user is not None:
            client.force_login(user)
        made[role] = client
    return made


@dataclass
class Outcome:
    status: int
    body: str = ""
    location: str = ""
    messages: list[tuple[str, str]] = field(default_factory=list)  # (level tag, text)
    form_errors: list[str] = field(default_factory=list)
    context: Any = None
    error: str = ""  # the exception a view let escape

    def label(self) -> int | str:
        """The status, or for a UI request what it came to (LOGIN, PAGE, DONE, REFUSED)."""
        levels = {level for level, _ in self.messages}
        if self.status == 302 and self.location.startswith(reverse("login")):
            return LOGIN
        if self.status == 302 and "error" in levels:
            return REFUSED
        if self.status == 302 and "success" in levels:
            return DONE
        if self.status == 200 and self.context is not None:
            return REFUSED if self.form_errors else PAGE
        return self.status

    def detail(self) -> str:
        text = self.error or "; ".join(t for _, t in self.messages) or "; ".join(self.form_errors)
        return (text or self.body)[:160].replace("\n", " ")


def call(
    client: APIClient, method: str, url: str, body: Any = None, fmt: str = "", accept: str = ""
) -> Outcome:
    """Send one request inside a savepoint rolled back afterwards, so what an allowed user
    writes in one cell is gone before the next. An exception the view lets escape comes back
    as a 500 with its text."""
    kwargs: dict[str, Any] = {}
    if body is not None:
        kwargs["data"] = body
    if fmt:
        kwargs["format"] = fmt
    if accept:
        kwargs["HTTP_ACCEPT"] = accept
    with transaction.atomic():
        try:
            response = getattr(client, method.lower())(url, **kwargs)
            outcome = _outcome(response)
        except Exception as exc:  # the matrix reports it as a cell
            outcome = Outcome(500, error=f"{type(exc).__name__}: {exc}")
        transaction.set_rollback(True)
    client.cookies.pop("messages", None)  # no message carries over into the next request
    return outcome


def _outcome(response: Any) -> Outcome:
    if getattr(response, "streaming", False):
        body = b"".join(response.streaming_content).decode(errors="replace")
    else:
        body = response.content.decode(errors="replace")
    request = getattr(response, "wsgi_request", None)
    messages = []
    if request is not None and hasattr(request, "_messages"):
        messages = [(m.level_tag, str(m)) for m in get_messages(request)]
    context = getattr(response, "context", None)
    form_errors: list[str] = []
    if context is not None:
        form = context.get("form") if hasattr(context, "get") else None
        if form is not None and getattr(form, "is_bound", False) and form.errors:
            form_errors = [str(e) for errors in form.errors.values() for e in errors]
    return Outcome(
        status=response.status_code,
        body=body,
        location=response.get("Location", ""),
        messages=messages,
        form_errors=form_errors,
        context=context,
    )
