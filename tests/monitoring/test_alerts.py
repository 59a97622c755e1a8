"""Alert rules: open once, resolve when cleared, acknowledge with change rights, delivery."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from django.core import mail
from django.utils import timezone

from monitoring.alerts import services, signing
from monitoring.models import (
    Alert,
    AlertDelivery,
    AlertNotice,
    AlertRule,
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
    assert AlertNotice.objects.get().user == model_a.owner


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


class _Receiver(BaseHTTPRequestHandler):
    received: list[tuple[dict, bytes]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        type(self).received.append((dict(self.headers), body))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def receiver():
    _Receiver.received = []
    server = HTTPServer(("127.0.0.1", 0), _Receiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/hook", _Receiver
    server.shutdown()
    server.server_close()


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
    assert list(AlertDelivery.objects.values_list("kind", "status_code", "ok")) == [
        ("retraining", 204, True),
        ("alert", 204, True),
    ]


def test_an_unreachable_webhook_is_recorded_as_failed(model_a, django_capture_on_commit_callbacks):
    deployment = deployment_of(model_a)
    accuracy_rule(model_a, webhook_url="http://127.0.0.1:9/hook", webhook_secret="x")
    set_accuracy(deployment, 0.2)
    with django_capture_on_commit_callbacks(execute=True):
        services.alerts_evaluate(deployment=deployment)
    delivery = AlertDelivery.objects.get()
    assert (delivery.ok, delivery.status_code) == (False, None) and delivery.error


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
