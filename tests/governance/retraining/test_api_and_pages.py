"""The retraining API and pages: who reads and who changes, field errors, the model page."""

from __future__ import annotations

import pytest

from governance.retraining import policies, services
from governance.retraining.models import RetrainingPolicy, RetrainingRun
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def model(owner):
    version = factories.approved_version(model=factories.registered_model(owner=owner))
    return version.model


def test_policy_api_reads_for_viewers_and_writes_for_the_owner(api_as, model, reviewer, outsider):
    url = f"/api/v1/models/{model.slug}/retraining/policy/"
    assert api_as(outsider).get(url).status_code == 404
    first = api_as(reviewer).get(url)
    assert first.status_code == 200 and first.json()["configured"] is False
    assert api_as(reviewer).put(url, {"every_days": 30}, format="json").status_code == 403
    saved = api_as(model.owner).put(
        url, {"every_days": 30, "min_days": 7, "on_drift": True}, format="json"
    )
    assert saved.status_code == 200, saved.content
    body = saved.json()
    assert body["configured"] and body["every_days"] == 30 and body["min_days"] == 7
    assert "trainer_secret" not in body and body["trainer_secret_set"] is False
    assert RetrainingPolicy.objects.get(model=model).on_drift is True


def test_policy_api_names_the_field_of_a_bad_value(api_as, model):
    url = f"/api/v1/models/{model.slug}/retraining/policy/"
    client = api_as(model.owner)
    bad = client.put(url, {"every_days": 3, "min_days": 10}, format="json")
    assert bad.status_code == 400 and "min_days" in bad.json()
    hook = client.put(
        url,
        {"trainer": "webhook", "trainer_url": "https://10.0.0.5/train", "trainer_secret": "x" * 20},
        format="json",
    )
    assert hook.status_code == 400 and "trainer_url" in hook.json()


def test_runs_api_lists_and_requests_and_cancels(api_as, model, reviewer, outsider):
    policies.policy_update(model=model, actor=model.owner, min_days=0)
    url = f"/api/v1/models/{model.slug}/retraining/runs/"
    assert api_as(reviewer).post(url, {"reason": "x"}, format="json").status_code == 403
    assert api_as(outsider).post(url, {}, format="json").status_code == 404
    made = api_as(model.owner).post(url, {"reason": "accuracy fell"}, format="json")
    assert made.status_code == 201, made.content
    run = made.json()
    assert run["state"] == "queued" and run["trigger"] == "manual"
    listing = api_as(reviewer).get(url).json()
    assert [r["id"] for r in listing["results"]] == [run["id"]]
    detail = f"/api/v1/retraining/runs/{run['id']}/"
    assert api_as(outsider).get(detail).status_code == 404
    assert api_as(reviewer).get(detail).json()["reason"] == "accuracy fell"
    assert api_as(reviewer).post(f"{detail}cancel/").status_code == 403
    cancelled = api_as(model.owner).post(f"{detail}cancel/")
    assert cancelled.status_code == 200 and cancelled.json()["state"] == "cancelled"
    assert api_as(model.owner).post(f"{detail}cancel/").status_code == 409
    assert [
        r["id"] for r in api_as(outsider).get("/api/v1/retraining/runs/").json()["results"]
    ] == []


def test_a_request_without_a_policy_is_refused_with_the_reason(api_as, model):
    response = api_as(model.owner).post(
        f"/api/v1/models/{model.slug}/retraining/runs/", {}, format="json"
    )
    assert response.status_code == 409 and "no retraining policy" in response.json()["detail"]


def test_model_page_shows_the_policy_and_runs(client, model, reviewer):
    policies.policy_update(model=model, actor=model.owner, every_days=14, min_days=3)
    run = services.run_request(model=model, actor=model.owner, reason="quarterly")
    client.force_login(reviewer)
    page = client.get(f"/registry/models/{model.slug}/")
    text = page.content.decode()
    assert page.status_code == 200
    assert "Retraining" in text and "14 days" in text and f"#{run.pk}" in text
    detail = client.get(f"/governance/retraining/runs/{run.pk}/").content.decode()
    assert "quarterly" in detail and "No comparison yet" in detail


def test_the_policy_form_saves_for_the_owner_and_shows_field_errors(client, model, reviewer):
    url = f"/governance/models/{model.slug}/retraining/"
    form = {
        "enabled": "on",
        "every_days": "30",
        "min_days": "40",
        "metric_source": "realised",
        "metric_window_days": "7",
        "window_days": "30",
        "trainer": "steward",
    }
    client.force_login(model.owner)
    shown = client.post(url, form)
    assert shown.status_code == 200 and "cannot exceed" in shown.content.decode()
    assert not RetrainingPolicy.objects.filter(model=model).exists()
    saved = client.post(url, form | {"min_days": "5"})
    assert saved.status_code == 302
    assert RetrainingPolicy.objects.get(model=model).min_days == 5
    client.force_login(reviewer)
    refused = client.post(url, form | {"min_days": "1"}, follow=True)
    assert "may not change" in refused.content.decode()
    assert RetrainingPolicy.objects.get(model=model).min_days == 5


def test_retrain_now_from_the_page_defers_inside_the_bound(client, model):
    policies.policy_update(model=model, actor=model.owner, min_days=10)
    services.run_request(model=model, actor=model.owner)
    services.run_cancel(run=RetrainingRun.objects.get(), actor=model.owner)
    RetrainingRun.objects.create(
        model=model,
        trigger="manual",
        trainer="steward",
        state="approved",
        started_at=RetrainingRun.objects.get().requested_at,
    )
    client.force_login(model.owner)
    response = client.post(
        f"/governance/models/{model.slug}/retraining/request/", {"reason": "now"}, follow=True
    )
    assert "defers run" in response.content.decode()
    assert RetrainingRun.objects.filter(state="deferred").count() == 1
