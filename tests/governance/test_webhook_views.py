"""Webhook pages: list, create, edit, disable, delete, "send test" against a real HTTP receiver
on 127.0.0.1 (whose HMAC signature is checked here, as a receiver would), the last deliveries;
404 for whoever does not manage the webhook's model."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from guardian.shortcuts import assign_perm

from governance.approvals.models import WebhookDelivery, WebhookEndpoint
from governance.audit.models import AuditEvent
from monitoring.models import AlertDelivery, AlertRule
from tests import factories

pytestmark = pytest.mark.django_db

SECRET = "a-test-secret-of-32-characters!!"


class Receiver(BaseHTTPRequestHandler):
    """Keeps each request's body and headers; answers `answer`."""

    received: list[tuple[bytes, dict[str, str]]]
    answer = 200

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        type(self).received.append((body, dict(self.headers)))
        self.send_response(type(self).answer)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def receiver(internal_receivers) -> Iterator[tuple[str, type[Receiver]]]:
    handler = type("Kept", (Receiver,), {"received": []})
    server = HTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}/hook", handler
    server.shutdown()
    server.server_close()


def hook_on(
    model: Any, url: str = "https://hooks.example.org/steward", **fields: Any
) -> WebhookEndpoint:
    return WebhookEndpoint.objects.create(
        name=fields.pop("name", "ops"),
        url=url,
        secret=SECRET,
        model=model,
        created_by=model.owner,
        **fields,
    )


FORM = {
    "name": "ops pager",
    "url": "https://hooks.example.org/steward",
    "secret": SECRET,
    "events": ["version.approved", "deployment.created"],
    "active": "on",
}


def test_owner_registers_a_webhook_on_their_model(client, model_a):
    client.force_login(model_a.owner)
    page = client.get(reverse("approvals:webhook-new"))
    assert page.status_code == 200 and model_a.slug in page.content.decode()
    response = client.post(reverse("approvals:webhook-new"), FORM | {"model": model_a.slug})
    hook = WebhookEndpoint.objects.get()
    assert response["Location"] == reverse("approvals:webhook-detail", args=[hook.pk])
    assert hook.model == model_a and hook.events == ["version.approved", "deployment.created"]
    assert hook.secret == SECRET and hook.created_by == model_a.owner
    entry = AuditEvent.objects.get(action="governance.webhook.created")
    assert entry.actor == model_a.owner and SECRET not in json.dumps(entry.after)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"url": "http://169.254.169.254/latest"}, "url"),
        ({"url": "https://127.0.0.1/hook"}, "url"),
        ({"url": "not a url"}, "url"),
        ({"secret": "short"}, "secret"),
        ({"name": ""}, "name"),
        ({"events": ["no.such.event"]}, "events"),
    ],
)
def test_a_bad_value_shows_beside_its_field_and_stores_nothing(client, model_a, changes, field):
    client.force_login(model_a.owner)
    before = AuditEvent.objects.count()
    page = client.post(reverse("approvals:webhook-new"), FORM | {"model": model_a.slug} | changes)
    html = page.content.decode()
    assert page.status_code == 200 and f'id="id_{field}_error"' in html
    assert not WebhookEndpoint.objects.exists() and AuditEvent.objects.count() == before


def test_only_administrators_register_a_webhook_for_every_model(client, model_a, admin):
    client.force_login(model_a.owner)
    page = client.post(reverse("approvals:webhook-new"), FORM | {"model": ""})
    assert 'id="id_model_error"' in page.content.decode()
    assert not WebhookEndpoint.objects.exists()
    client.force_login(admin)
    client.post(reverse("approvals:webhook-new"), FORM | {"model": ""})
    assert WebhookEndpoint.objects.get().model is None


def test_a_model_the_user_does_not_manage_cannot_be_chosen(client, model_a, model_b):
    client.force_login(model_a.owner)
    page = client.post(reverse("approvals:webhook-new"), FORM | {"model": model_b.slug})
    assert 'id="id_model_error"' in page.content.decode()
    assert not WebhookEndpoint.objects.exists()


def test_send_test_posts_a_signed_event_and_shows_the_delivery(client, model_a, receiver):
    url, handler = receiver
    hook = hook_on(model_a, url=url)
    client.force_login(model_a.owner)
    response = client.post(reverse("approvals:webhook-test", args=[hook.pk]), follow=True)
    html = response.content.decode()
    assert "Test event delivered: HTTP 200" in html

    [(body, headers)] = handler.received
    expected = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    assert headers["X-Steward-Signature"] == expected
    assert headers["X-Steward-Event"] == "steward.test"
    payload = json.loads(body)
    assert payload["test"] is True and payload["webhook"] == hook.pk
    assert payload["actor"] == model_a.owner.username

    delivery = WebhookDelivery.objects.get()
    assert (delivery.state, delivery.attempts, delivery.status_code) == ("delivered", 1, 200)
    assert headers["X-Steward-Delivery"] == str(delivery.pk)
    entry = AuditEvent.objects.get(action="governance.webhook.tested")
    assert entry.seq == delivery.event_seq == payload["seq"]
    assert f'data-delivery="{delivery.pk}"' in html and 'data-state="delivered"' in html


def test_a_failing_test_says_why_and_is_not_retried(client, model_a, receiver):
    url, handler = receiver
    handler.answer = 503
    hook = hook_on(model_a, url=url)
    client.force_login(model_a.owner)
    response = client.post(reverse("approvals:webhook-test", args=[hook.pk]), follow=True)
    assert "Test event not delivered: attempt 1: HTTP 503" in response.content.decode()
    delivery = WebhookDelivery.objects.get()
    assert delivery.state == "failed" and delivery.next_attempt_at is None
    assert len(handler.received) == 1


def test_send_test_to_a_refused_address_posts_nothing(client, model_a, receiver, settings):
    url, handler = receiver
    hook = hook_on(model_a, url=url)
    settings.STEWARD_WEBHOOK_ALLOWLIST = []  # loopback no longer allowed
    client.force_login(model_a.owner)
    response = client.post(reverse("approvals:webhook-test", args=[hook.pk]), follow=True)
    assert "refused" in response.content.decode()
    assert handler.received == []


def test_owner_edits_disables_and_deletes_a_webhook(client, model_a):
    hook = hook_on(model_a)
    client.force_login(model_a.owner)
    edit = reverse("approvals:webhook-edit", args=[hook.pk])
    bad = client.post(edit, {"name": "ops", "url": "http://10.0.0.1/x", "active": "on"})
    assert 'id="id_url_error"' in bad.content.decode()
    hook.refresh_from_db()
    assert hook.url == "https://hooks.example.org/steward"
    client.post(
        edit,
        {
            "name": "renamed",
            "url": "https://other.example.org/h",
            "events": ["version.registered"],
            "active": "on",
        },
    )
    hook.refresh_from_db()
    assert (hook.name, hook.url, hook.events, hook.secret) == (
        "renamed",
        "https://other.example.org/h",
        ["version.registered"],
        SECRET,  # a blank secret keeps the stored one
    )
    updated = AuditEvent.objects.get(action="governance.webhook.updated")
    assert updated.before["name"] == "ops" and updated.after["secret_changed"] is False

    client.post(reverse("approvals:webhook-active", args=[hook.pk]), {"active": "0"})
    hook.refresh_from_db()
    assert not hook.active

    delete = reverse("approvals:webhook-delete", args=[hook.pk])
    assert "Delete the webhook" in client.get(delete).content.decode()
    assert WebhookEndpoint.objects.filter(pk=hook.pk).exists()
    assert client.post(delete)["Location"] == reverse("approvals:webhook-list")
    assert not WebhookEndpoint.objects.filter(pk=hook.pk).exists()
    assert AuditEvent.objects.filter(action="governance.webhook.deleted").count() == 1


def test_whoever_does_not_manage_the_model_gets_404(client, model_a, outsider, receiver):
    url, handler = receiver
    hook = hook_on(model_a, url=url)
    viewer = factories.UserFactory(username="vic")
    assign_perm("view_registeredmodel", viewer, model_a)
    for user in (outsider, viewer):
        client.force_login(user)
        for name in ("webhook-detail", "webhook-edit", "webhook-delete"):
            assert client.get(reverse(f"approvals:{name}", args=[hook.pk])).status_code == 404
        for name in ("webhook-test", "webhook-delete", "webhook-active", "webhook-edit"):
            assert client.post(reverse(f"approvals:{name}", args=[hook.pk])).status_code == 404
        listing = client.get(reverse("approvals:webhook-list"))
        assert f'data-webhook="{hook.pk}"' not in listing.content.decode()
    assert (
        handler.received == [] and WebhookEndpoint.objects.filter(pk=hook.pk, active=True).exists()
    )


def test_the_webhook_pages_need_a_signed_in_user(client):
    for name in ("webhook-list", "webhook-new"):
        response = client.get(reverse(f"approvals:{name}"))
        assert response.status_code == 302 and "login" in response["Location"]


def test_the_webhook_list_makes_as_many_queries_for_many_webhooks_as_for_few(
    client, model_a, django_assert_max_num_queries
):
    client.force_login(model_a.owner)
    url = reverse("approvals:webhook-list")

    def add(n: int) -> None:
        for i in range(n):
            hook = hook_on(model_a, name=f"hook {WebhookEndpoint.objects.count()} {i}")
            WebhookDelivery.objects.create(endpoint=hook, event_seq=1, event="version.approved")

    deployment = factories.deployment(version=factories.model_version(model=model_a))

    def add_rules(n: int) -> None:
        for _ in range(n):
            rule = AlertRule.objects.create(
                deployment=deployment,
                source="metric",
                name="accuracy",
                comparator="lt",
                threshold=0.8,
                webhook_url="https://alerts.example.org/hook",
            )
            AlertDelivery.objects.create(rule=rule, kind="test", url=rule.webhook_url)

    add(1)
    add_rules(1)
    client.get(url)
    with CaptureQueriesContext(connection) as few:
        assert client.get(url).status_code == 200
    add(10)
    add_rules(10)
    with django_assert_max_num_queries(len(few.captured_queries)):
        page = client.get(url)
    html = page.content.decode()
    assert html.count("data-webhook=") == 11 and html.count("data-alert-webhook=") == 11


def test_the_webhook_list_shows_alert_rule_webhooks_the_user_may_view(client, model_a, model_b):
    mine = factories.deployment(version=factories.model_version(model=model_a))
    theirs = factories.deployment(version=factories.model_version(model=model_b))
    rules = {}
    for name, deployment in (("mine", mine), ("theirs", theirs)):
        rules[name] = AlertRule.objects.create(
            deployment=deployment,
            source="metric",
            name="accuracy",
            comparator="lt",
            threshold=0.8,
            webhook_url=f"https://{name}.example.org/hook",
        )
    client.force_login(model_a.owner)
    html = client.get(reverse("approvals:webhook-list")).content.decode()
    assert f'data-alert-webhook="{rules["mine"].pk}"' in html
    assert f'data-alert-webhook="{rules["theirs"].pk}"' not in html and "theirs.example" not in html
