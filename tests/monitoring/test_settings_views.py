"""Monitoring settings pages: alert rules per deployment and across deployments (create, edit,
disable, enable, delete with a confirmation), and the preview of when a rule would have fired,
checked against a hand-built history whose answer is known."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from django.contrib.auth.models import User
from django.urls import reverse
from guardian.shortcuts import assign_perm

from governance.audit.models import AuditEvent
from monitoring.alerts.preview import rule_preview
from monitoring.alerts.services import rule_reading
from monitoring.models import Alert, AlertDelivery, AlertRule, DailyPerformance, HourlyQuality
from registry.models import Deployment, RegisteredModel
from tests import factories

pytestmark = pytest.mark.django_db

NOW = dt.datetime.now(dt.UTC).replace(minute=30, second=0, microsecond=0)
TODAY = NOW.date()


@pytest.fixture
def deployment(model_a: RegisteredModel) -> Deployment:
    return factories.deployment(version=factories.model_version(model=model_a))


@pytest.fixture
def viewer(model_a: RegisteredModel) -> User:
    user = factories.UserFactory(username="vera")
    assign_perm("view_registeredmodel", user, model_a)
    return user


def day(deployment: Deployment, ago: int, accuracy: float, labelled: int = 100) -> None:
    DailyPerformance.objects.create(
        deployment=deployment,
        day=TODAY - dt.timedelta(days=ago),
        task="binary",
        predictions=labelled or 10,
        labelled=labelled,
        metrics={"accuracy": accuracy},
    )


def rule_on(deployment: Deployment, **fields: object) -> AlertRule:
    values: dict[str, object] = {
        "deployment": deployment,
        "source": "metric",
        "name": "accuracy",
        "comparator": "lt",
        "threshold": 0.8,
        "window_days": 1,
    }
    return AlertRule(**(values | fields))


# --- the preview ---------------------------------------------------------------------------------


def test_preview_lists_the_days_a_one_day_rule_would_have_fired(deployment):
    for ago in range(30):
        day(deployment, ago, 0.7 if ago in (3, 17, 24) else 0.9)
    day(deployment, 31, 0.1)  # before the 30 days: no firing of its own
    preview = rule_preview(rule_on(deployment), [deployment], now=NOW)
    fired = [f.at.date() for f in preview.firings]
    assert fired == [TODAY - dt.timedelta(days=ago) for ago in (24, 17, 3)]
    assert preview.count == 3 and preview.evaluated == 30 and preview.unit == "day"
    assert all(f.value == pytest.approx(0.7) for f in preview.firings)


def test_preview_weights_the_window_by_labelled_predictions_as_the_evaluator(deployment):
    """Window 2 over the days with ground truth: 40 days ago 0.95 (100 labels) reaches into the
    period; 10 days ago 0.9 (100); 9 days ago 0.7 (300); 5 days ago 0.95 (100); 3 days ago has
    no labels. Days 29..11 ago read 0.95, day 10 ago (90+95)/200 = 0.925, days 9..6 ago
    (210+90)/400 = 0.75, days 5..0 ago (95+210)/400 = 0.7625: < 0.8 on the last ten days."""
    day(deployment, 40, 0.95)
    day(deployment, 10, 0.9)
    day(deployment, 9, 0.7, labelled=300)
    day(deployment, 5, 0.95)
    day(deployment, 3, 0.1, labelled=0)
    rule = rule_on(deployment, window_days=2)
    preview = rule_preview(rule, [deployment], now=NOW)
    assert [f.at.date() for f in preview.firings] == [
        TODAY - dt.timedelta(days=ago) for ago in range(9, -1, -1)
    ]
    assert [round(f.value, 4) for f in preview.firings] == [0.75] * 4 + [0.7625] * 6
    assert preview.evaluated == 30
    # The preview's reading today is the evaluator's reading now: one computation.
    rule.save()
    reading = rule_reading(rule, deployment)
    assert reading is not None and preview.firings[-1].value == pytest.approx(reading.value)
    # And the comparison is the evaluator's: >= 0.7625 fires on exactly the same days.
    ge = rule_preview(
        rule_on(deployment, window_days=2, comparator="ge", threshold=0.7625), [deployment], now=NOW
    )
    assert [f.at.date() for f in ge.firings] == [
        TODAY - dt.timedelta(days=a) for a in range(29, 9, -1)
    ] + [TODAY - dt.timedelta(days=a) for a in range(5, -1, -1)]


def counts(rows: int, missing: int) -> dict[str, object]:
    return {
        "type": "numeric",
        "rows": rows,
        "missing": missing,
        "type_errors": 0,
        "values": rows - missing,
        "out_of_range": 0,
        "unseen": None,
    }


def test_preview_of_a_data_quality_rule_reads_the_hours_before_each_hour(deployment):
    """One hour, 50 hours ago, has half of `age` missing; a one-day rule on the missing share
    sees it in the 24 hourly readings after it, and no other. The share is over the window's
    rows: while the clean hour 60 hours ago is in the window too, 5 of 20 (0.25), then 0.5."""
    top = NOW.replace(minute=0)
    bad = top - dt.timedelta(hours=50)
    for ago in (60, 50, 10):
        hour = top - dt.timedelta(hours=ago)
        HourlyQuality.objects.create(
            deployment=deployment,
            hour=hour,
            count=10,
            features={"age": counts(10, 5 if hour == bad else 0)},
            reference_digest="0" * 64,
        )
    rule = rule_on(
        deployment, source="quality", name="missing_share:age", comparator="gt", threshold=0.2
    )
    preview = rule_preview(rule, [deployment], now=NOW)
    assert preview.unit == "hour"
    assert [f.at for f in preview.firings] == [bad + dt.timedelta(hours=h) for h in range(1, 25)]
    assert [f.value for f in preview.firings] == [0.25] * 14 + [0.5] * 10
    # Readings exist where the window holds a stored hour: 59..26 hours ago and 9..0 ago.
    assert preview.evaluated == 34 + 10


def test_status_rules_and_empty_histories_say_why_there_is_no_preview(deployment):
    status = rule_preview(rule_on(deployment, source="status", name="drift"), [deployment], now=NOW)
    assert status.count == 0 and "no history" in status.note
    empty = rule_preview(rule_on(deployment), [deployment], now=NOW)
    assert empty.count == 0 and empty.evaluated == 0 and "No day with ground truth" in empty.note


# --- the pages -----------------------------------------------------------------------------------

FORM = {
    "scope": "deployment",
    "source": "metric",
    "name": "accuracy",
    "comparator": "lt",
    "threshold": "0.8",
    "window_days": "1",
    "severity": "warning",
    "notify_in_app": "on",
}


def test_owner_creates_a_rule_after_previewing_it(client, model_a, deployment):
    day(deployment, 0, 0.5)
    client.force_login(model_a.owner)
    url = reverse("monitoring:rule-new", args=[deployment.pk])
    page = client.post(url, FORM | {"preview": "1"})
    assert page.status_code == 200 and AlertRule.objects.count() == 0
    assert 'data-preview-count="1"' in page.content.decode()
    response = client.post(url, FORM | {"save": "1"})
    rule = AlertRule.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("monitoring:rule-edit", args=[rule.pk])
    assert (
        rule.deployment == deployment and rule.threshold == 0.8 and rule.created_by == model_a.owner
    )
    entry = AuditEvent.objects.get(action="monitoring.alert_rule.created")
    assert entry.actor == model_a.owner and entry.target_id == str(rule.pk)
    edit = client.get(response["Location"])
    assert 'data-preview-count="1"' in edit.content.decode()


def test_a_model_wide_rule_is_created_on_the_model(client, model_a, deployment):
    client.force_login(model_a.owner)
    client.post(reverse("monitoring:rule-new", args=[deployment.pk]), FORM | {"scope": "model"})
    rule = AlertRule.objects.get()
    assert rule.model == model_a and rule.deployment is None


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"threshold": "high"}, "threshold", "Enter a number"),
        ({"window_days": "0"}, "window_days", "greater than or equal to 1"),
        ({"source": "status", "name": "latency"}, "name", "one of"),
        ({"source": "quality", "name": "missing"}, "name", "one of"),
        ({"retraining": "on"}, "webhook_url", "retraining needs a webhook"),
        ({"webhook_url": "http://127.0.0.1/hook"}, "webhook_url", ""),
    ],
)
def test_a_bad_value_shows_beside_its_field_and_stores_nothing(
    client, model_a, deployment, changes, field, message
):
    client.force_login(model_a.owner)
    before = AuditEvent.objects.count()
    page = client.post(reverse("monitoring:rule-new", args=[deployment.pk]), FORM | changes)
    html = page.content.decode()
    assert page.status_code == 200
    assert f'id="id_{field}_error"' in html and message in html
    assert 'aria-invalid="true"' in html
    assert AlertRule.objects.count() == 0 and AuditEvent.objects.count() == before


def test_a_viewer_sees_the_rules_but_may_not_create_one(client, viewer, deployment):
    rule = rule_on(deployment)
    rule.save()
    client.force_login(viewer)
    page = client.get(reverse("monitoring:deployment-rules", args=[deployment.pk]))
    assert page.status_code == 200 and f'data-rule="{rule.pk}"' in page.content.decode()
    assert reverse("monitoring:rule-new", args=[deployment.pk]) not in page.content.decode()
    response = client.post(
        reverse("monitoring:rule-new", args=[deployment.pk]), FORM | {"save": "1"}, follow=True
    )
    assert "change" in response.content.decode().lower()
    assert AlertRule.objects.count() == 1
    edit = client.get(reverse("monitoring:rule-edit", args=[rule.pk])).content.decode()
    assert "You may view this rule" in edit and 'name="threshold"' not in edit
    assert 'id="rule-disable"' not in edit and 'id="rule-preview"' in edit
    for name in ("rule-edit", "rule-delete"):
        client.post(reverse(f"monitoring:{name}", args=[rule.pk]), {"threshold": "0.1"})
    client.post(reverse("monitoring:rule-active", args=[rule.pk]), {"active": "0"})
    rule.refresh_from_db()
    assert rule.active and rule.threshold == 0.8


def test_an_outsider_gets_404_for_every_rule_page(client, outsider, deployment):
    rule = rule_on(deployment)
    rule.save()
    client.force_login(outsider)
    assert (
        client.get(reverse("monitoring:deployment-rules", args=[deployment.pk])).status_code == 404
    )
    assert (
        client.post(reverse("monitoring:rule-new", args=[deployment.pk]), FORM).status_code == 404
    )
    for name in ("rule-edit", "rule-delete", "rule-active"):
        assert client.post(reverse(f"monitoring:{name}", args=[rule.pk])).status_code == 404
    assert AlertRule.objects.filter(pk=rule.pk, active=True).exists()
    listing = client.get(reverse("monitoring:rule-list"))
    assert listing.status_code == 200 and f'data-rule="{rule.pk}"' not in listing.content.decode()
    assert "No alert rules yet" in listing.content.decode()


def test_the_rule_pages_need_a_signed_in_user(client, deployment):
    for url in (
        reverse("monitoring:rule-list"),
        reverse("monitoring:deployment-rules", args=[deployment.pk]),
    ):
        response = client.get(url)
        assert response.status_code == 302 and "login" in response["Location"]


def test_owner_edits_disables_enables_and_deletes_a_rule(client, model_a, deployment):
    rule = rule_on(deployment)
    rule.save()
    client.force_login(model_a.owner)
    edit = reverse("monitoring:rule-edit", args=[rule.pk])
    bad = client.post(
        edit,
        {"comparator": "lt", "threshold": "x", "window_days": "1", "severity": "info", "save": "1"},
    )
    assert 'id="id_threshold_error"' in bad.content.decode()
    rule.refresh_from_db()
    assert rule.threshold == 0.8
    client.post(
        edit,
        {
            "comparator": "le",
            "threshold": "0.75",
            "window_days": "3",
            "severity": "critical",
            "active": "on",
            "save": "1",
        },
    )
    rule.refresh_from_db()
    assert (rule.comparator, rule.threshold, rule.window_days, rule.severity) == (
        "le",
        0.75,
        3,
        "critical",
    )
    updated = AuditEvent.objects.get(action="monitoring.alert_rule.updated")
    assert updated.before["threshold"] == 0.8 and updated.after["threshold"] == 0.75

    client.post(reverse("monitoring:rule-active", args=[rule.pk]), {"active": "0"})
    rule.refresh_from_db()
    assert not rule.active
    client.post(reverse("monitoring:rule-active", args=[rule.pk]), {"active": "1"})
    rule.refresh_from_db()
    assert rule.active
    assert AuditEvent.objects.filter(action="monitoring.alert_rule.updated").count() == 3

    delete = reverse("monitoring:rule-delete", args=[rule.pk])
    confirm = client.get(delete)
    assert confirm.status_code == 200 and "Delete the rule" in confirm.content.decode()
    assert AlertRule.objects.filter(pk=rule.pk).exists()  # a GET deletes nothing
    response = client.post(delete)
    assert response["Location"] == reverse("monitoring:deployment-rules", args=[deployment.pk])
    assert not AlertRule.objects.filter(pk=rule.pk).exists()
    assert AuditEvent.objects.filter(action="monitoring.alert_rule.deleted").count() == 1


def test_a_rule_that_fired_is_not_deleted(client, model_a, deployment):
    rule = rule_on(deployment)
    rule.save()
    Alert.objects.create(
        rule=rule, deployment=deployment, value=0.5, message="m", dedup_key="k", opened_at=NOW
    )
    client.force_login(model_a.owner)
    confirm = client.get(reverse("monitoring:rule-delete", args=[rule.pk]))
    assert "Disable it instead" in confirm.content.decode()
    response = client.post(reverse("monitoring:rule-delete", args=[rule.pk]), follow=True)
    assert "Disable it instead" in response.content.decode()
    assert AlertRule.objects.filter(pk=rule.pk).exists()


def test_the_edit_preview_uses_the_form_values_without_saving(client, model_a, deployment):
    for ago in range(5):
        day(deployment, ago, 0.85)
    rule = rule_on(deployment)
    rule.save()
    client.force_login(model_a.owner)
    edit = reverse("monitoring:rule-edit", args=[rule.pk])
    assert 'data-preview-count="0"' in client.get(edit).content.decode()
    form = {
        "comparator": "lt",
        "threshold": "0.9",
        "window_days": "1",
        "severity": "warning",
        "active": "on",
    }
    page = client.post(edit, form | {"preview": "1"})
    assert 'data-preview-count="5"' in page.content.decode()
    rule.refresh_from_db()
    assert rule.threshold == 0.8


# --- query counts ---------------------------------------------------------------------------------


def _rules(deployment: Deployment, n: int) -> None:
    AlertRule.objects.bulk_create(
        [rule_on(deployment, threshold=i / 100) for i in range(n)]
        + [
            AlertRule(
                model=deployment.version.model,
                source="metric",
                name="r2",
                comparator="lt",
                threshold=0.1,
            )
            for _ in range(n)
        ]
    )


@pytest.mark.parametrize("name", ["rule-list", "deployment-rules"])
def test_the_rule_lists_make_as_many_queries_for_many_rules_as_for_few(
    client, model_a, deployment, django_assert_max_num_queries, name
):
    client.force_login(model_a.owner)
    args = [] if name == "rule-list" else [deployment.pk]
    url = reverse(f"monitoring:{name}", args=args)
    _rules(deployment, 1)
    client.get(url)  # warm caches (content types, permissions)
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as few:
        assert client.get(url).status_code == 200
    _rules(deployment, 12)
    with django_assert_max_num_queries(len(few.captured_queries)):
        page = client.get(url)
    assert page.content.decode().count("data-rule=") == 25


# --- the rule's webhook: send a test -----------------------------------------------------------


class Receiver(BaseHTTPRequestHandler):
    received: list[tuple[bytes, dict[str, str]]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        type(self).received.append((body, dict(self.headers)))
        self.send_response(202)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def receiver(internal_receivers) -> Iterator[str]:
    Receiver.received = []
    server = HTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}/alerts"
    server.shutdown()
    server.server_close()


def test_send_test_posts_a_signed_event_to_the_rules_webhook(client, model_a, deployment, receiver):
    secret = "rule-secret-0123456789abcdef"
    rule = rule_on(deployment, webhook_url=receiver, webhook_secret=secret)
    rule.save()
    client.force_login(model_a.owner)
    page = client.post(reverse("monitoring:rule-test", args=[rule.pk]), follow=True)
    html = page.content.decode()
    assert "Test event delivered: HTTP 202" in html

    [(body, headers)] = Receiver.received
    expected = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    assert headers["X-Steward-Signature"] == expected and headers["X-Steward-Event"] == "test"
    assert json.loads(body)["rule"] == rule.pk and json.loads(body)["test"] is True
    delivery = AlertDelivery.objects.get()
    assert (delivery.rule, delivery.alert, delivery.state, delivery.attempts) == (
        rule,
        None,
        "delivered",
        1,
    )
    assert delivery.status_code == 202
    assert f'data-delivery="{delivery.pk}" data-state="delivered"' in html
    assert AuditEvent.objects.filter(action="monitoring.alert_rule.tested").count() == 1


def test_send_test_needs_the_change_right_and_a_webhook(
    client, viewer, model_a, deployment, receiver
):
    rule = rule_on(deployment, webhook_url=receiver)
    rule.save()
    client.force_login(viewer)
    page = client.post(reverse("monitoring:rule-test", args=[rule.pk]), follow=True)
    assert "Test event delivered" not in page.content.decode()
    assert Receiver.received == [] and not AlertDelivery.objects.exists()
    bare = rule_on(deployment)
    bare.save()
    client.force_login(model_a.owner)
    page = client.post(reverse("monitoring:rule-test", args=[bare.pk]), follow=True)
    assert "calls no webhook" in page.content.decode() and not AlertDelivery.objects.exists()


def test_the_hourly_preview_reads_what_the_evaluator_reads_at_every_hour(deployment):
    """Random hours with gaps and two features: at every hour the preview read, its share is
    `worst_in` (what `quality_worst` gives the evaluator) over the window's stored hours."""
    import random

    from monitoring.rollups.quality_selectors import worst_in

    rng = random.Random(7)
    top = NOW.replace(minute=0)
    for ago in range(1, 200):
        if rng.random() < 0.3:
            continue
        rows = rng.randint(1, 50)
        HourlyQuality.objects.create(
            deployment=deployment,
            hour=top - dt.timedelta(hours=ago),
            count=rows,
            features={
                "age": counts(rows, rng.randint(0, rows)),
                "income": counts(rows, rng.randint(0, rows // 3)),
            },
            reference_digest="0" * 64,
        )
    rule = rule_on(
        deployment, source="quality", name="missing_share", comparator="ge", threshold=0.0
    )
    rule.window_days = 2
    preview = rule_preview(rule, [deployment], now=NOW)
    assert preview.count == preview.evaluated > 150  # >= 0 holds wherever there is a reading
    span = dt.timedelta(days=2)
    for firing in preview.firings:
        stored = list(
            HourlyQuality.objects.filter(
                deployment=deployment, hour__gte=firing.at - span, hour__lt=firing.at
            )
        )
        assert firing.value == pytest.approx(worst_in(stored)["missing_share"][1], abs=1e-12)
