"""Grants and revocations through the API, watchers, lifecycle events and signed webhooks."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from governance.approvals import events, webhooks
from governance.approvals.models import ModelWatch, Notification, WebhookDelivery, WebhookEndpoint
from governance.models import AuditEvent
from governance.outbound.signing import HEADER, verify
from tests import factories

pytestmark = pytest.mark.django_db


def test_owner_grants_and_revokes_view_and_both_are_audited(api_as, model_a, outsider):
    client = api_as(model_a.owner)
    url = f"/api/v1/models/{model_a.slug}/access/"
    granted = client.post(url, {"user": outsider.username, "actions": ["view"]}, format="json")
    assert granted.status_code == 200 and granted.json()["actions"] == ["view"]
    assert api_as(outsider).get(f"/api/v1/models/{model_a.slug}/").status_code == 200
    client = api_as(model_a.owner)
    listing = client.get(url).json()
    assert {"user": outsider.username, "actions": ["view"]} in listing["grants"]
    revoked = client.delete(url, {"user": outsider.username, "actions": ["view"]}, format="json")
    assert revoked.status_code == 200 and revoked.json()["actions"] == []
    fresh = type(outsider).objects.get(pk=outsider.pk)
    assert api_as(fresh).get(f"/api/v1/models/{model_a.slug}/").status_code == 404
    actions = list(
        AuditEvent.objects.filter(action__startswith="governance.access").values_list(
            "action", flat=True
        )
    )
    assert actions == ["governance.access.granted", "governance.access.revoked"]


def test_reviewer_may_see_but_not_manage_access(api_as, model_a, reviewer, outsider):
    url = f"/api/v1/models/{model_a.slug}/access/"
    client = api_as(reviewer)
    assert client.get(url).status_code == 403
    assert (
        client.post(
            url, {"user": outsider.username, "actions": ["view"]}, format="json"
        ).status_code
        == 403
    )


def test_outsider_gets_404_for_access_of_an_invisible_model(api_as, model_a, outsider):
    assert api_as(outsider).get(f"/api/v1/models/{model_a.slug}/access/").status_code == 404


def test_grant_to_an_unknown_user_names_the_field(api_as, model_a):
    response = api_as(model_a.owner).post(
        f"/api/v1/models/{model_a.slug}/access/",
        {"user": "ghost", "actions": ["view"]},
        format="json",
    )
    assert response.status_code == 400 and "user" in response.json()


def test_watchers_hear_of_new_versions(api_as, model_a, reviewer):
    assert api_as(reviewer).post(f"/api/v1/models/{model_a.slug}/watch/").status_code == 200
    assert ModelWatch.objects.filter(user=reviewer, model=model_a).exists()
    version = factories.model_version(model=model_a)
    events.dispatch_pending()
    note = Notification.objects.get(recipient=reviewer)
    assert "version registered" in note.subject and f"version {version.number}" in note.subject
    events.dispatch_pending()  # the cursor moved on: nothing is sent twice
    assert Notification.objects.filter(recipient=reviewer).count() == 1


def test_watching_and_unwatching_go_through_audited_services(api_as, model_a, reviewer, outsider):
    url = f"/api/v1/models/{model_a.slug}/watch/"
    assert api_as(outsider).post(url).status_code == 404
    api_as(reviewer).post(url)
    api_as(reviewer).post(url)  # already watching: nothing new to record
    api_as(reviewer).delete(url)
    entries = AuditEvent.objects.filter(action__startswith="approvals.model.").order_by("id")
    assert [(e.action, e.actor_name) for e in entries] == [
        ("approvals.model.watched", reviewer.username),
        ("approvals.model.unwatched", reviewer.username),
    ]
    assert not ModelWatch.objects.exists()


def test_marking_a_notification_read_is_audited_once_and_only_for_its_recipient(
    api_as, reviewer, outsider
):
    note = Notification.objects.create(recipient=reviewer, subject="hello")
    url = f"/api/v1/notifications/{note.pk}/read/"
    assert api_as(outsider).post(url).status_code == 404
    first = api_as(reviewer).post(url)
    assert first.status_code == 200 and first.json()["read_at"]
    assert api_as(reviewer).post(url).json()["read_at"] == first.json()["read_at"]
    entry = AuditEvent.objects.get(action="approvals.notification.read")
    assert entry.actor_name == reviewer.username and entry.target_id == str(note.pk)


class _Receiver(BaseHTTPRequestHandler):
    received: list[tuple[dict[str, str], bytes]] = []
    status = 200

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        type(self).received.append((dict(self.headers), body))
        self.send_response(type(self).status)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def receiver(internal_receivers):
    _Receiver.received = []
    _Receiver.status = 200
    server = HTTPServer(("127.0.0.1", 0), _Receiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/hook", _Receiver
    server.shutdown()
    server.server_close()


def test_webhook_receives_hmac_signed_lifecycle_events(model_a, admin, receiver):
    url, handler = receiver
    secret = "a-long-shared-secret-for-tests"
    WebhookEndpoint.objects.create(
        name="ci",
        url=url,
        secret=secret,
        created_by=admin,
        events=["version.registered"],
        model=model_a,
    )
    version = factories.model_version(model=model_a)
    ids = events.dispatch_pending()
    assert len(ids) == 1
    assert webhooks.send(ids[0]) is True
    headers, body = handler.received[0]
    assert verify(secret, body, headers[HEADER])
    assert not verify("another-secret-entirely", body, headers[HEADER])
    payload = json.loads(body)
    assert payload["event"] == "version.registered"
    assert (payload["model"], payload["version"]) == (model_a.slug, version.number)
    delivery = WebhookDelivery.objects.get()
    assert (delivery.state, delivery.status_code, delivery.attempts) == ("delivered", 200, 1)


def test_a_failing_webhook_is_recorded_and_left_for_retry(model_a, admin, receiver):
    url, handler = receiver
    handler.status = 500
    WebhookEndpoint.objects.create(name="ci", url=url, secret="x" * 20, created_by=admin)
    factories.model_version(model=model_a)
    (delivery_id,) = events.dispatch_pending()
    with pytest.raises(webhooks.DeliveryFailed):
        webhooks.send(delivery_id)
    delivery = WebhookDelivery.objects.get(pk=delivery_id)
    assert (delivery.state, delivery.status_code, delivery.error) == (
        "pending",
        500,
        "attempt 1: HTTP 500 Internal Server Error",
    )


def test_webhooks_of_a_model_need_manage_access(api_as, model_a, reviewer):
    body = {
        "name": "x",
        "url": "https://ci.example.org/hook",
        "secret": "s" * 20,
        "events": ["version.approved"],
        "model": model_a.slug,
    }
    assert api_as(reviewer).post("/api/v1/webhooks/", body, format="json").status_code == 403
    created = api_as(model_a.owner).post("/api/v1/webhooks/", body, format="json")
    assert created.status_code == 201, created.content
    assert "secret" not in created.json()
    bad = api_as(model_a.owner).post(
        "/api/v1/webhooks/", body | {"events": ["nope"]}, format="json"
    )
    assert bad.status_code == 400 and "events" in bad.json()


def test_a_model_slug_with_a_nul_byte_or_other_characters_is_a_400(api_as, model_a):
    # PostgreSQL refuses text holding NUL: found by the API fuzzer as a 500
    body = {"name": "x", "url": "https://ci.example.org/hook", "secret": "s" * 20}
    for slug in (model_a.slug + "\x00", "caf\u00e9 model", "../x"):
        answer = api_as(model_a.owner).post(
            "/api/v1/webhooks/", body | {"model": slug}, format="json"
        )
        assert answer.status_code == 400 and "model" in answer.json(), (slug, answer.content)


def test_registering_and_removing_a_webhook_is_audited(api_as, model_a):
    client = api_as(model_a.owner)
    created = client.post(
        "/api/v1/webhooks/",
        {
            "name": "ci",
            "url": "https://ci.example.org/hook",
            "secret": "s" * 20,
            "events": [],
            "model": model_a.slug,
        },
        format="json",
    )
    assert created.status_code == 201, created.content
    assert client.delete(f"/api/v1/webhooks/{created.json()['id']}/").status_code == 204
    actions = list(
        AuditEvent.objects.filter(action__startswith="governance.webhook").values_list(
            "action", flat=True
        )
    )
    assert actions == ["governance.webhook.created", "governance.webhook.deleted"]
    assert "s" * 20 not in str(
        AuditEvent.objects.filter(action="governance.webhook.created")
        .values_list("after", flat=True)
        .get()
    )
