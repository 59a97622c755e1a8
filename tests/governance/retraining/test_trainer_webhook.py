"""The team's trainer: a signed webhook to a real local receiver, and the callback API that
registers its result (token-authenticated, body signed with the policy's secret)."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from rest_framework.test import APIClient

from governance.lineage.models import LineageEdge
from governance.outbound.signing import HEADER, sign, verify
from governance.retraining import jobs, policies, services
from governance.retraining.choices import RunState
from governance.retraining.models import TrainerDelivery
from monitoring.models import JobRun
from portal.security.tokens import token_create
from registry import services as registry
from tests import factories
from tests.governance.retraining import builders

pytestmark = pytest.mark.django_db

SECRET = "trainer-secret-0123456789abcdef"


class _Trainer(BaseHTTPRequestHandler):
    received: list[tuple[dict[str, str], bytes]]
    answers: list[int]

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.received.append((dict(self.headers), body))
        code = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        self.send_response(code)
        self.end_headers()

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def trainer(settings):
    settings.STEWARD_WEBHOOK_ALLOW_HTTP = True
    settings.STEWARD_WEBHOOK_ALLOWLIST = ["127.0.0.1"]
    handler = type("Trainer", (_Trainer,), {"received": [], "answers": [202]})
    server = HTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}/train", handler
    server.shutdown()
    server.server_close()


@pytest.fixture
def world(owner, trainer):
    world = builders.sklearn_model(owner)
    policies.policy_update(
        model=world.model,
        actor=owner,
        trainer="webhook",
        trainer_url=trainer[0],
        trainer_secret=SECRET,
        window_days=14,
    )
    return world


def _run_job(run):
    return jobs.run_retraining(JobRun.objects.get(pk=run.job_id), lambda _: None)


def _token_client(user) -> APIClient:
    _, secret = token_create(user=user, name="trainer")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {secret}")
    return client


def _callback(client, run, payload, *, secret=SECRET):
    body = json.dumps(payload).encode()
    return client.post(
        f"/api/v1/retraining/runs/{run.pk}/result/",
        data=body,
        content_type="application/json",
        **{f"HTTP_{HEADER.upper().replace('-', '_')}": sign(secret, body)},
    )


def _trainers_version(world, owner):
    """What the team's pipeline does: registers the new version through the API's services."""
    version = factories.model_version(
        model=world.model, input_schema=builders.SCHEMA, feature_importance={}
    )
    registry.artifact_upload(
        version=version,
        actor=owner,
        upload=factories.binary_upload(b"retrained weights"),
        kind="model",
    )
    return version


def test_the_trainer_gets_a_signed_call_with_the_window_and_datasets(world, owner, trainer):
    run = services.run_request(model=world.model, actor=owner, reason="drift")
    assert _run_job(run) == {"run": run.pk, "delivery": "delivered"}
    [(headers, body)] = trainer[1].received
    assert verify(SECRET, body, headers[HEADER])
    assert headers["X-Steward-Event"] == "steward.retraining.requested"
    payload = json.loads(body)
    run.refresh_from_db()
    assert payload["run"] == run.pk and payload["reason"] == "drift"
    assert payload["window"] == {
        "start": run.window_start.isoformat(),
        "end": run.window_end.isoformat(),
    }
    assert [(d["id"], d["use"]) for d in payload["datasets"]] == [(world.dataset.pk, "trained_on")]
    assert payload["datasets"][0]["sha256"] == world.dataset.sha256
    assert payload["base_version"] == {"id": world.version.pk, "number": world.version.number}
    assert payload["callback"].endswith(f"/api/v1/retraining/runs/{run.pk}/result/")
    assert run.state == RunState.TRAINING


def test_a_trainer_that_is_down_is_retried_and_the_job_says_so(world, owner, trainer):
    trainer[1].answers[:] = [503]
    run = services.run_request(model=world.model, actor=owner)
    with pytest.raises(jobs.TrainerUnreachable):
        _run_job(run)
    delivery = TrainerDelivery.objects.get(run=run)
    assert delivery.state == "pending" and "HTTP 503" in delivery.error


def test_the_callback_registers_the_result_with_lineage_and_approval(world, owner):
    run = services.run_request(model=world.model, actor=owner)
    _run_job(run)
    version = _trainers_version(world, owner)
    client = _token_client(owner)
    comparison = {
        "holdout": {"source": "the team's frozen hold-out", "rows": 500},
        "previous": {"accuracy": 0.71, "roc_auc": 0.80},
        "candidate": {"accuracy": 0.84, "roc_auc": 0.90},
    }
    response = _callback(client, run, {"version": version.pk, "comparison": comparison})
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["state"] == RunState.AWAITING_APPROVAL and body["result_version"] == version.pk
    accuracy = next(row for row in body["comparison"]["metrics"] if row["name"] == "accuracy")
    assert accuracy["change"] == pytest.approx(0.13) and accuracy["better"] is True
    assert LineageEdge.objects.filter(
        upstream_kind="version",
        upstream_id=world.version.pk,
        downstream_id=version.pk,
        relation="derived_from",
    ).exists()
    version.refresh_from_db()
    assert version.stage == "pending_review"
    # The result is registered once: a second callback is refused.
    again = _callback(client, run, {"version": version.pk, "comparison": comparison})
    assert again.status_code == 409


def test_a_callback_with_a_bad_signature_is_refused_and_changes_nothing(world, owner):
    run = services.run_request(model=world.model, actor=owner)
    _run_job(run)
    version = _trainers_version(world, owner)
    client = _token_client(owner)
    payload = {"version": version.pk, "comparison": {"previous": {"a": 1}, "candidate": {"a": 1}}}
    forged = _callback(client, run, payload, secret="not-the-secret-0123456789")
    assert forged.status_code == 403
    assert "signed" in forged.json()["detail"]
    unsigned = client.post(f"/api/v1/retraining/runs/{run.pk}/result/", payload, format="json")
    assert unsigned.status_code == 403
    run.refresh_from_db()
    assert run.state == RunState.TRAINING and run.result_version is None


def test_the_callback_needs_a_token_and_the_change_right(world, owner, reviewer, outsider):
    run = services.run_request(model=world.model, actor=owner)
    _run_job(run)
    version = _trainers_version(world, owner)
    payload = {"version": version.pk, "comparison": {"previous": {"a": 1}, "candidate": {"a": 1}}}
    assert _callback(APIClient(), run, payload).status_code == 401
    assert _callback(_token_client(outsider), run, payload).status_code == 404
    assert _callback(_token_client(reviewer), run, payload).status_code == 403


def test_the_callback_names_the_field_of_a_bad_comparison(world, owner):
    run = services.run_request(model=world.model, actor=owner)
    _run_job(run)
    version = _trainers_version(world, owner)
    bad = {"version": version.pk, "comparison": {"previous": {"accuracy": "high"}}}
    response = _callback(_token_client(owner), run, bad)
    assert response.status_code == 400 and "comparison.previous" in response.json()
