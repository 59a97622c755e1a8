"""Alert rules: open once, resolve when cleared, acknowledge with change rights, delivery."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from django.core import mail
from django.utils import timezone
from django.utils.html import escape

from governance.approvals import events
from governance.approvals.models import Notification
from governance.models import AuditEvent
from governance.outbound import signing
from monitoring.alerts import delivery as delivery_module
from monitoring.alerts import services
from monitoring.models import (
    Alert,
    AlertDelivery,
    AlertRule,
    AlertState,
    DailyPerformance,
    DeploymentStatus,
)
from tests import factories

pytestmark = pytest.mark.django_db


def deployment_of(model):
    endpoint = f"https://serving.example.org/{model.slug}"
    return factories.deployment(version=factories.model_version(model=model), endpoint=endpoint)


def set_accuracy(deployment, value):
    DailyPerformance.objects.update_or_create(
        deployment=deployment,
        day=timezone.now().date(),
        defaults={
            "task": "binary",
            "predictions": 9,
            "labelled": 9,
            "metrics": {"accuracy": value},
        },
    )


def accuracy_rule(model, **fields):
    return services.alert_rule_create(
        actor=model.owner,
        model=model,
        source="metric",
        name="accuracy",
        comparator="lt",
        threshold=0.8,
        **fields,
    )


def test_alert_opens_once_for_repeated_evaluations(model_a, django_capture_on_commit_callbacks):
    deployment = deployment_of(model_a)
    accuracy_rule(model_a)
    set_accuracy(deployment, 0.6)
    with django_capture_on_commit_callbacks(execute=True):
        first = services.alerts_evaluate(deployment=deployment)
        second = services.alerts_evaluate(deployment=deployment)
    assert (first["opened"], second["opened"]) == (1, 0)
    alert = Alert.objects.get()
    assert alert.state == "open" and alert.value == 0.6
    assert AuditEvent.objects.filter(action="monitoring.alert.opened").count() == 1


def test_alert_resolves_when_the_condition_clears_and_may_reopen(model_a):
    deployment = deployment_of(model_a)
    accuracy_rule(model_a)
    set_accuracy(deployment, 0.6)
    services.alerts_evaluate(deployment=deployment)
    set_accuracy(deployment, 0.95)
    assert services.alerts_evaluate(deployment=deployment)["resolved"] == 1
    assert Alert.objects.get().state == "resolved"
    set_accuracy(deployment, 0.5)
    assert services.alerts_evaluate(deployment=deployment)["opened"] == 1
    assert list(Alert.objects.order_by("id").values_list("state", flat=True)) == [
        "resolved",
        "open",
    ]


def test_status_rule_fires_on_the_level_rank(model_a):
    deployment = deployment_of(model_a)
    services.alert_rule_create(
        actor=model_a.owner,
        deployment=deployment,
        source="status",
        name="drift",
        comparator="ge",
        threshold=1,
    )
    DeploymentStatus.objects.create(
        deployment=deployment,
        accuracy_level="good",
        accuracy_reason="",
        drift_level="failing",
        drift_reason="",
        service_health_level="good",
        service_health_reason="",
        computed_at=timezone.now(),
    )
    assert services.alerts_evaluate(deployment=deployment)["opened"] == 1


def test_email_channel_writes_to_the_model_owner(model_a, django_capture_on_commit_callbacks):
    model_a.owner.email = "olivia@example.org"
    model_a.owner.save()
    deployment = deployment_of(model_a)
    accuracy_rule(model_a, notify_email=True)
    set_accuracy(deployment, 0.1)
    with django_capture_on_commit_callbacks(execute=True):
        services.alerts_evaluate(deployment=deployment)
    assert mail.outbox[-1].to == ["olivia@example.org"]
    assert "accuracy" in mail.outbox[-1].subject


class _Hook(BaseHTTPRequestHandler):
    """Records each POST and answers the status codes of `answers` in turn (the last one from
    then on)."""

    answers: list[int] = [204]
    received: list[tuple[dict, bytes]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        type(self).received.append((dict(self.headers), body))
        answers = type(self).answers
        self.send_response(answers.pop(0) if len(answers) > 1 else answers[0])
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


def _serve(answers: list[int]):
    """A webhook receiver on a free local port: yields (its URL, the handler class)."""
    _Hook.received, _Hook.answers = [], answers
    server = HTTPServer(("127.0.0.1", 0), _Hook)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/hook", _Hook
    server.shutdown()
    server.server_close()


@pytest.fixture
def receiver(internal_receivers):
    yield from _serve([204])


def test_webhook_channel_signs_the_body_and_asks_for_retraining(
    model_a, receiver, django_capture_on_commit_callbacks
):
    url, handler = receiver
    deployment = deployment_of(model_a)
    accuracy_rule(model_a, webhook_url=url, webhook_secret="s3cret", retraining=True)
    set_accuracy(deployment, 0.2)
    with django_capture_on_commit_callbacks(execute=True):
        services.alerts_evaluate(deployment=deployment)
    assert len(handler.received) == 2
    for headers, body in handler.received:
        assert signing.verify("s3cret", body, headers[signing.HEADER])
        assert not signing.verify("wrong", body, headers[signing.HEADER])
    alert_body, retraining_body = (json.loads(body) for _, body in handler.received)
    assert alert_body["deployment"] == deployment.pk and alert_body["value"] == 0.2
    assert set(retraining_body) == {"deployment", "window", "reason"}
    assert list(AlertDelivery.objects.values_list("kind", "status_code", "state")) == [
        ("retraining", 204, "delivered"),
        ("alert", 204, "delivered"),
    ]


def test_an_unreachable_webhook_is_recorded_as_failed(
    model_a, internal_receivers, django_capture_on_commit_callbacks
):
    deployment = deployment_of(model_a)
    accuracy_rule(model_a, webhook_url="http://127.0.0.1:9/hook", webhook_secret="x")
    set_accuracy(deployment, 0.2)
    with django_capture_on_commit_callbacks(execute=True):
        services.alerts_evaluate(deployment=deployment)
    delivery = AlertDelivery.objects.get()
    assert (delivery.state, delivery.status_code) == ("pending", None) and delivery.error


# --- API ---------------------------------------------------------------------------------------


@pytest.fixture
def open_alert(model_a):
    deployment = deployment_of(model_a)
    accuracy_rule(model_a)
    set_accuracy(deployment, 0.5)
    services.alerts_evaluate(deployment=deployment)
    return Alert.objects.get()


def test_acknowledge_needs_change_rights(api_as, open_alert, owner, reviewer, outsider):
    url = f"/api/v1/alerts/{open_alert.pk}/acknowledge/"
    assert api_as(reviewer).post(url).status_code == 403
    assert api_as(outsider).post(url).status_code == 404
    answer = api_as(owner).post(url)
    assert answer.status_code == 200
    assert answer.json()["state"] == "acknowledged"
    assert api_as(owner).post(url).status_code == 409
    resolved = api_as(owner).post(f"/api/v1/alerts/{open_alert.pk}/resolve/")
    assert resolved.json()["state"] == "resolved"
    assert resolved.json()["resolved_by"] == owner.pk


def test_alert_list_is_restricted_and_filters_by_state(api_as, open_alert, reviewer, outsider):
    assert api_as(reviewer).get("/api/v1/alerts/?state=open").json()["count"] == 1
    assert api_as(reviewer).get("/api/v1/alerts/?state=resolved").json()["count"] == 0
    assert api_as(outsider).get("/api/v1/alerts/").json()["count"] == 0


def test_rule_api_creates_for_the_owner_only(api_as, model_a, owner, reviewer, outsider):
    body = {
        "model": model_a.pk,
        "source": "metric",
        "name": "roc_auc",
        "comparator": "lt",
        "threshold": 0.7,
        "webhook_url": "https://hooks.example.org/x",
        "webhook_secret": "hidden",
    }
    assert api_as(outsider).post("/api/v1/alert-rules/", body, format="json").status_code == 404
    assert api_as(reviewer).post("/api/v1/alert-rules/", body, format="json").status_code == 403
    answer = api_as(owner).post("/api/v1/alert-rules/", body, format="json")
    assert answer.status_code == 201
    assert "webhook_secret" not in answer.json()
    assert AlertRule.objects.get().created_by == owner
    assert api_as(reviewer).get("/api/v1/alert-rules/").json()["count"] == 1
    assert api_as(outsider).get("/api/v1/alert-rules/").json()["count"] == 0


def test_rule_api_needs_exactly_one_scope(api_as, model_a, owner):
    body = {"source": "metric", "name": "accuracy", "comparator": "lt", "threshold": 0.7}
    assert api_as(owner).post("/api/v1/alert-rules/", body, format="json").status_code == 400


# --- webhook retries ---------------------------------------------------------------------------


@pytest.fixture
def flaky(internal_receivers):
    """A receiver whose answers each test sets (`handler.answers = [500, 204]`)."""
    yield from _serve([204])


def hmac_signature(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def failed_delivery(model, url, django_capture_on_commit_callbacks) -> AlertDelivery:
    deployment = deployment_of(model)
    accuracy_rule(model, webhook_url=url, webhook_secret="s3cret")
    set_accuracy(deployment, 0.3)
    with django_capture_on_commit_callbacks(execute=True):
        services.alerts_evaluate(deployment=deployment)
    return AlertDelivery.objects.get()


def test_a_failed_webhook_is_retried_with_backoff_until_it_gets_through(
    model_a, flaky, settings, django_capture_on_commit_callbacks
):
    settings.STEWARD_ALERT_RETRY_BASE_S = 60
    settings.STEWARD_ALERT_DELIVERY_ATTEMPTS = 5
    url, handler = flaky
    handler.answers = [500, 503, 204]
    delivery = failed_delivery(model_a, url, django_capture_on_commit_callbacks)
    assert (delivery.state, delivery.status_code, delivery.attempts) == ("pending", 500, 1)
    assert delivery.payload["alert"] == delivery.alert_id

    first_due = delivery.next_attempt_at
    assert delivery_module.deliveries_retry_due(now=first_due - dt.timedelta(seconds=1)) == 0
    assert delivery_module.deliveries_retry_due(now=first_due) == 1
    delivery.refresh_from_db()
    assert (delivery.state, delivery.status_code, delivery.attempts) == ("pending", 503, 2)
    assert delivery.next_attempt_at == first_due + dt.timedelta(seconds=120)

    assert delivery_module.deliveries_retry_due(now=delivery.next_attempt_at) == 1
    delivery.refresh_from_db()
    assert (delivery.state, delivery.status_code, delivery.attempts) == ("delivered", 204, 3)
    assert delivery.next_attempt_at is None
    first, second = delivery.error.splitlines()
    assert first.startswith("attempt 1: HTTP 500")
    assert second.startswith("attempt 2: HTTP 503")
    far = timezone.now() + dt.timedelta(days=365)
    assert delivery_module.deliveries_retry_due(now=far) == 0

    bodies = [body for _, body in handler.received]
    assert len(bodies) == 3 and len(set(bodies)) == 1  # the same payload every time
    for headers, body in handler.received:
        assert headers[signing.HEADER] == hmac_signature("s3cret", body)
    assert json.loads(bodies[0])["deployment"] == delivery.alert.deployment_id


def test_a_webhook_that_keeps_failing_is_given_up_after_the_cap(
    model_a, flaky, settings, django_capture_on_commit_callbacks
):
    settings.STEWARD_ALERT_DELIVERY_ATTEMPTS = 3
    url, handler = flaky
    handler.answers = [500]
    delivery = failed_delivery(model_a, url, django_capture_on_commit_callbacks)
    later = [timezone.now() + dt.timedelta(days=day) for day in (1, 2, 3)]
    assert [delivery_module.deliveries_retry_due(now=when) for when in later] == [1, 1, 0]
    delivery.refresh_from_db()
    assert (delivery.state, delivery.attempts, delivery.next_attempt_at) == ("failed", 3, None)
    assert len(handler.received) == 3
    assert delivery.error.splitlines()[-1].startswith("attempt 3: HTTP 500")


def test_a_due_retry_is_sent_by_one_run_only(
    model_a, flaky, settings, django_capture_on_commit_callbacks
):
    url, handler = flaky
    handler.answers = [500, 204]
    delivery = failed_delivery(model_a, url, django_capture_on_commit_callbacks)
    stale = AlertDelivery.objects.get(pk=delivery.pk)  # what a second beat run read
    assert delivery_module.delivery_retry(delivery=delivery, now=delivery.next_attempt_at)
    assert not delivery_module.delivery_retry(delivery=stale, now=stale.next_attempt_at)
    assert len(handler.received) == 2


def test_beat_runs_the_retry_task_every_minute(settings):
    from monitoring.jobs import beat

    entry = settings.CELERY_BEAT_SCHEDULE["retry-alert-deliveries"]
    assert entry["task"] == beat.retry_alert_deliveries.name
    assert entry["schedule"] == 60


# --- rule detail API ---------------------------------------------------------------------------


def rule_url(rule) -> str:
    return f"/api/v1/alert-rules/{rule.pk}/"


def test_rule_detail_is_visible_to_viewers_only(
    api_as, model_a, model_b, owner, reviewer, outsider
):
    rule = accuracy_rule(model_a)
    other = accuracy_rule(model_b)
    assert api_as(owner).get(rule_url(rule)).json()["threshold"] == 0.8
    assert api_as(reviewer).get(rule_url(rule)).status_code == 200
    assert api_as(outsider).get(rule_url(rule)).status_code == 404
    assert api_as(owner).get(rule_url(other)).status_code == 404
    assert "webhook_secret" not in api_as(owner).get(rule_url(rule)).json()


def test_rule_patch_needs_change_rights_and_is_audited(api_as, model_a, owner, reviewer, outsider):
    rule = accuracy_rule(model_a, webhook_url="https://hooks.example.org/x", webhook_secret="a")
    patch = {"threshold": 0.7, "comparator": "le", "severity": "critical", "webhook_secret": "b"}
    assert api_as(reviewer).patch(rule_url(rule), patch, format="json").status_code == 403
    assert api_as(outsider).patch(rule_url(rule), patch, format="json").status_code == 404
    answer = api_as(owner).patch(rule_url(rule), patch, format="json")
    assert answer.status_code == 200, answer.content
    assert (answer.json()["threshold"], answer.json()["severity"]) == (0.7, "critical")
    rule.refresh_from_db()
    assert (rule.comparator, rule.webhook_secret) == ("le", "b")
    event = AuditEvent.objects.get(action="monitoring.alert_rule.updated")
    assert (event.before["threshold"], event.after["threshold"]) == (0.8, 0.7)
    assert event.actor == owner
    assert "webhook_secret" not in event.before and "webhook_secret" not in event.after
    assert event.after["webhook_secret_set"] is True


def test_rule_patch_refuses_scope_changes_and_invalid_results(api_as, model_a, owner):
    rule = accuracy_rule(model_a)
    url = rule_url(rule)
    assert api_as(owner).patch(url, {"name": "roc_auc"}, format="json").status_code == 400
    assert api_as(owner).patch(url, {"comparator": "eq"}, format="json").status_code == 400
    assert api_as(owner).patch(url, {"retraining": True}, format="json").status_code == 400
    assert api_as(owner).patch(url, {}, format="json").status_code == 400
    rule.refresh_from_db()
    assert (rule.name, rule.comparator, rule.retraining) == ("accuracy", "lt", False)


def test_a_disabled_rule_does_not_fire(api_as, model_a, owner):
    deployment = deployment_of(model_a)
    rule = accuracy_rule(model_a)
    answer = api_as(owner).patch(rule_url(rule), {"active": False}, format="json")
    assert answer.json()["active"] is False
    set_accuracy(deployment, 0.1)
    assert services.alerts_evaluate(deployment=deployment)["opened"] == 0
    api_as(owner).patch(rule_url(rule), {"active": True}, format="json")
    assert services.alerts_evaluate(deployment=deployment)["opened"] == 1


def test_rule_delete_needs_change_rights_and_keeps_rules_that_fired(
    api_as, model_a, owner, reviewer
):
    deployment = deployment_of(model_a)
    quiet = accuracy_rule(model_a, severity="info")
    assert api_as(reviewer).delete(rule_url(quiet)).status_code == 403
    assert api_as(owner).delete(rule_url(quiet)).status_code == 204
    assert not AlertRule.objects.filter(pk=quiet.pk).exists()
    assert AuditEvent.objects.filter(
        action="monitoring.alert_rule.deleted", target_id=str(quiet.pk)
    ).exists()
    fired = accuracy_rule(model_a)
    set_accuracy(deployment, 0.1)
    services.alerts_evaluate(deployment=deployment)
    assert api_as(owner).delete(rule_url(fired)).status_code == 409
    assert AlertRule.objects.filter(pk=fired.pk).exists()


def test_metric_rules_read_the_mean_over_their_window_set_through_the_api(api_as, model_a, owner):
    body = {
        "model": model_a.pk,
        "source": "metric",
        "name": "accuracy",
        "comparator": "lt",
        "threshold": 0.8,
        "window_days": 2,
    }
    created = api_as(owner).post("/api/v1/alert-rules/", body, format="json")
    assert created.status_code == 201 and created.json()["window_days"] == 2
    deployment = deployment_of(model_a)
    today = timezone.now().date()
    for days_ago, accuracy in ((0, 0.9), (1, 0.6)):  # a two-day mean of 0.75
        DailyPerformance.objects.create(
            deployment=deployment,
            day=today - dt.timedelta(days=days_ago),
            task="binary",
            predictions=10,
            labelled=10,
            metrics={"accuracy": accuracy},
        )
    assert services.alerts_evaluate(deployment=deployment)["opened"] == 1
    assert Alert.objects.get().value == pytest.approx(0.75)
    rule_id = created.json()["id"]
    patched = api_as(owner).patch(
        f"/api/v1/alert-rules/{rule_id}/", {"window_days": 1}, format="json"
    )
    assert patched.status_code == 200 and patched.json()["window_days"] == 1
    assert services.alerts_evaluate(deployment=deployment)["resolved"] == 1  # 0.9 alone
    bad = api_as(owner).patch(f"/api/v1/alert-rules/{rule_id}/", {"window_days": 0}, format="json")
    assert bad.status_code == 400 and "window_days" in str(bad.json())


def test_alert_api_shows_the_suggestion_and_filters_by_deployment(api_as, open_alert, owner):
    Alert.objects.filter(pk=open_alert.pk).update(suggestion="rollback")
    rows = api_as(owner).get(f"/api/v1/alerts/?deployment={open_alert.deployment_id}").json()
    assert [(row["id"], row["suggestion"]) for row in rows["results"]] == [
        (open_alert.pk, "rollback")
    ]
    model = open_alert.deployment.version.model
    other = factories.deployment(
        version=factories.model_version(model=model), endpoint="https://serving.example.org/b"
    )
    assert api_as(owner).get(f"/api/v1/alerts/?deployment={other.pk}").json()["count"] == 0
    assert api_as(owner).get("/api/v1/alerts/?deployment=x").status_code == 400


# The services check the actor themselves (not only the API views in front of them) ---------


def test_rule_services_refuse_an_actor_without_change_rights(model_a, reviewer):
    from django.core.exceptions import PermissionDenied

    from monitoring.alerts import rules

    with pytest.raises(PermissionDenied):
        services.alert_rule_create(
            actor=reviewer, model=model_a, source="metric", name="accuracy", comparator="lt",
            threshold=0.8,
        )  # fmt: skip
    rule = accuracy_rule(model_a)
    with pytest.raises(PermissionDenied):
        rules.alert_rule_update(rule=rule, actor=reviewer, threshold=0.5)
    with pytest.raises(PermissionDenied):
        rules.alert_rule_delete(rule=rule, actor=reviewer)
    assert AlertRule.objects.get().threshold == 0.8


def test_alert_services_refuse_an_actor_without_change_rights(open_alert, reviewer):
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        services.alert_acknowledge(alert=open_alert, actor=reviewer)
    with pytest.raises(PermissionDenied):
        services.alert_resolve(alert=open_alert, actor=reviewer)
    open_alert.refresh_from_db()
    assert open_alert.state == "open"


def test_monitoring_settings_service_refuses_an_actor_without_change_rights(model_a, reviewer):
    from django.core.exceptions import PermissionDenied

    from monitoring.performance.services import monitoring_settings_update

    with pytest.raises(PermissionDenied):
        monitoring_settings_update(
            deployment=deployment_of(model_a), actor=reviewer, positive_label="yes"
        )


def test_an_in_app_alert_reaches_the_owners_notifications_and_nobody_elses(
    api_as, client, model_a, outsider, django_capture_on_commit_callbacks
):
    deployment = deployment_of(model_a)
    accuracy_rule(model_a, notify_in_app=True)
    set_accuracy(deployment, 0.6)
    with django_capture_on_commit_callbacks(execute=True):
        services.alerts_evaluate(deployment=deployment)
    events.dispatch_pending()
    events.dispatch_pending()  # the cursor moved on: one notice, not two
    owner = api_as(model_a.owner)
    (note,) = owner.get("/api/v1/notifications/").json()["results"]
    assert "accuracy" in note["subject"] and note["subject"].startswith("[")
    assert note["url"] == f"/monitoring/deployments/{deployment.pk}/health/"
    assert note["read_at"] is None
    client.force_login(model_a.owner)
    page = client.get("/governance/approvals/notifications/")
    assert escape(note["subject"]) in page.content.decode()
    assert page.context["unread_notification_count"] == 1  # the nav badge
    assert owner.post(f"/api/v1/notifications/{note['id']}/read/").json()["read_at"]
    assert client.get("/governance/approvals/").context["unread_notification_count"] == 0
    assert api_as(outsider).get("/api/v1/notifications/").json()["results"] == []
    client.force_login(outsider)
    assert (
        client.get("/governance/approvals/notifications/").context["page_obj"].paginator.count == 0
    )
    assert client.post(f"/governance/approvals/notifications/{note['id']}/read/").status_code == 404
    assert not Notification.objects.exclude(recipient=model_a.owner).exists()
    assert len(mail.outbox) == 0  # e-mail is the rule's own channel, off here


def test_no_in_app_notice_when_the_rule_does_not_ask_or_the_owner_lost_view_rights(
    model_a, model_b, django_capture_on_commit_callbacks
):
    quiet = deployment_of(model_a)
    accuracy_rule(model_a, notify_in_app=False)
    set_accuracy(quiet, 0.6)
    loud = deployment_of(model_b)
    accuracy_rule(model_b, notify_in_app=True)
    set_accuracy(loud, 0.6)
    with django_capture_on_commit_callbacks(execute=True):
        services.alerts_evaluate(deployment=quiet)
        services.alerts_evaluate(deployment=loud)
    owner_b = model_b.owner
    owner_b.is_active = False  # an owner who may no longer see anything
    owner_b.save(update_fields=["is_active"])
    events.dispatch_pending()
    assert Alert.objects.count() == 2
    assert not Notification.objects.exists()


def test_the_notification_page_marks_ones_own_notification_read(client, owner, outsider):
    note = Notification.objects.create(recipient=owner, subject="version registered: v1")
    client.force_login(owner)
    assert client.get("/").context["unread_notification_count"] == 1
    response = client.post(f"/governance/approvals/notifications/{note.pk}/read/")
    assert response.status_code == 302
    note.refresh_from_db()
    assert note.read_at is not None
    assert AuditEvent.objects.filter(action="approvals.notification.read").count() == 1
    assert client.get("/").context["unread_notification_count"] == 0


# --- built-in rules raised by another app (source "external") ---------------------------------


def test_a_built_in_rule_is_raised_once_per_key_ignored_by_evaluation_and_cleared(
    model_a, api_as, owner, django_capture_on_commit_callbacks
):
    deployment = deployment_of(model_a)
    rule = services.external_rule_ensure(model=model_a, name="mlflow_alias_unapproved")
    assert services.external_rule_ensure(model=model_a, name="mlflow_alias_unapproved") == rule
    with django_capture_on_commit_callbacks(execute=True):
        alert = services.alert_raise(rule=rule, deployment=deployment, message="moved", key="v2")
    assert alert is not None and alert.state == AlertState.OPEN and alert.message == "moved"
    assert services.alert_raise(rule=rule, deployment=deployment, message="again", key="v2") is None
    assert AuditEvent.objects.filter(action="monitoring.alert.opened").count() == 1
    # Evaluation neither opens nor resolves it: it has no figure to read.
    assert services.alerts_evaluate(deployment=deployment) == {"opened": 0, "resolved": 0}
    assert services.alerts_clear(rule=rule) == 1
    alert.refresh_from_db()
    assert alert.state == AlertState.RESOLVED
    with pytest.raises(ValueError):
        services.alert_raise(
            rule=accuracy_rule(model_a), deployment=deployment, message="x", key="k"
        )


def test_the_rule_api_refuses_to_make_a_built_in_rule(api_as, model_a, owner):
    body = {
        "model": model_a.pk,
        "source": "external",
        "name": "mlflow_alias_unapproved",
        "comparator": "gt",
        "threshold": 0,
    }
    answer = api_as(owner).post("/api/v1/alert-rules/", body, format="json")
    assert answer.status_code == 400 and "source" in answer.json()
    assert not AlertRule.objects.exists()
