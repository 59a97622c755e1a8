"""Monitoring settings in a real browser: create an alert rule after seeing its preview over a
stored history, disable it; register a webhook and send it a signed test event that a local
receiver checks. No CSP violation (the `page` fixture fails on any); screenshots of each step."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from monitoring.models import AlertRule, DailyPerformance

pytestmark = pytest.mark.e2e

SECRET = "browser-test-secret-0123456789"


class Receiver(BaseHTTPRequestHandler):
    received: list[tuple[bytes, str]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        type(self).received.append((body, self.headers.get("X-Steward-Signature", "")))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


def test_create_preview_and_disable_a_rule_then_test_a_webhook(
    page, login, screenshot, catalogue, internal_receivers
):
    deployment = catalogue.deployment
    today = timezone.now().astimezone(dt.UTC).date()
    for ago in range(14):
        DailyPerformance.objects.create(
            deployment=deployment,
            day=today - dt.timedelta(days=ago),
            task="binary",
            predictions=200,
            labelled=100,
            metrics={"accuracy": 0.7 if ago in (2, 9) else 0.9},
        )
    login(page, "olivia")

    page.goto(f"/monitoring/deployments/{deployment.pk}/rules/")
    assert "No rule watches this deployment" in page.content()
    page.get_by_role("link", name="New rule").first.click()
    page.get_by_label("Watches").fill("accuracy")
    page.get_by_label("Comparator").select_option("lt")
    page.get_by_label("Threshold").fill("0.8")
    page.get_by_role("button", name="Preview").click()
    preview = page.locator("[data-preview-count]")
    assert preview.get_attribute("data-preview-count") == "2"
    assert page.locator("#preview-table tbody tr").count() == 2
    assert AlertRule.objects.count() == 0
    screenshot(page, "monitoring-rule-preview")

    page.get_by_role("button", name="Save rule").click()
    page.wait_for_url("**/monitoring/rules/*/")
    expect(page.locator(".messages")).to_contain_text("created", use_inner_text=True)
    assert page.locator("[data-preview-count]").get_attribute("data-preview-count") == "2"
    screenshot(page, "monitoring-rule-saved")
    page.locator("#rule-disable").click()
    expect(page.locator(".messages")).to_contain_text("Rule disabled", use_inner_text=True)
    expect(page.locator("#rule-enable")).to_be_visible()
    rule = AlertRule.objects.get()
    assert not rule.active and rule.deployment_id == deployment.pk
    screenshot(page, "monitoring-rule-disabled")

    Receiver.received = []
    server = HTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        page.goto("/governance/approvals/webhooks/")
        page.get_by_role("link", name="New webhook").first.click()
        page.get_by_label("Name").fill("ops receiver")
        page.get_by_label("URL").fill(f"http://127.0.0.1:{server.server_port}/hook")
        page.get_by_label("Secret").fill(SECRET)
        page.get_by_label("Model").select_option(catalogue.model.slug)
        page.get_by_role("button", name="Register webhook").click()
        page.locator("#webhook-send-test").click()
        expect(page.locator(".messages")).to_contain_text(
            "Test event delivered: HTTP 204", use_inner_text=True
        )
        assert page.locator("#webhook-deliveries [data-state='delivered']").count() == 1
        screenshot(page, "webhook-test-delivered")
    finally:
        server.shutdown()
        server.server_close()
    [(body, signature)] = Receiver.received
    assert signature == "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
