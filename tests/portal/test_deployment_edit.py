"""The deployment write pages (portal/deployment_edit.py): deploy to dev or staging, a canary
beside a deployment, rollback, retirement and monitoring settings. Every form goes through its
service and is audited; a bad value shows its error beside the field and stores nothing; a user
who may see but not deploy is refused, one who may not see gets 404. Who gets what on each
route for every role is in tests/test_permission_matrix.py."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from django.urls import reverse
from guardian.shortcuts import assign_perm

from governance.audit.models import AuditEvent
from monitoring.models import MonitoringSettings
from registry.choices import DeploymentStatus
from registry.models import Deployment
from tests import factories

pytestmark = pytest.mark.django_db

ENDPOINT = "https://serving.example.org/credit/predict"


def audited(action: str, target: object) -> bool:
    return AuditEvent.objects.filter(
        action=action, target_type=target._meta.label_lower, target_id=str(target.pk)
    ).exists()


def field_error(html: str, field: str) -> str:
    """The text of the error block rendered beside `field` (includes/form_fields.html)."""
    found = re.search(rf'id="id_{field}_error">(.*?)</div>', html, re.S)
    assert found, f"no error beside {field}"
    return re.sub(r"<[^>]+>", " ", found.group(1))


@pytest.fixture
def viewer(model_a):
    user = factories.data_scientist("vera")
    assign_perm("registry.view_registeredmodel", user, model_a)
    return user


@pytest.fixture
def versions(model_a):
    """v1 (approved) and v2 (draft) of model A."""
    return factories.approved_version(model=model_a), factories.model_version(model=model_a)


@pytest.fixture
def staged(versions):
    """v1 in staging at ENDPOINT, then v2 replacing it (so a rollback goes back to v1)."""
    v1, v2 = versions
    first = factories.deployment(version=v1, endpoint=ENDPOINT)
    return factories.deployment(version=v2, endpoint=ENDPOINT, replaces=first)


# --- deploy ------------------------------------------------------------------------------------


def test_deploy_is_described_first_then_done_and_audited(client, model_a, versions):
    v1, _ = versions
    client.force_login(model_a.owner)
    url = reverse("registry:version-deploy", args=[model_a.slug, v1.number])
    assert client.get(url).status_code == 200
    data = {"environment": "staging", "endpoint": ENDPOINT, "traffic_share": "100"}
    described = client.post(url, data)
    html = described.content.decode()
    assert "Confirm: deploy" in html and ENDPOINT in html and "100%" in html
    assert not Deployment.objects.exists(), "the first post only describes the deployment"
    done = client.post(url, data | {"confirmed": "on"})
    deployment = Deployment.objects.get()
    assert done.status_code == 302 and done["Location"] == reverse(
        "registry:deployment-detail", args=[deployment.pk]
    )
    assert (deployment.environment, deployment.endpoint) == ("staging", ENDPOINT)
    assert deployment.deployed_by == model_a.owner
    assert audited("registry.deployment.created", deployment)


def test_the_deploy_plan_names_what_is_replaced_and_what_keeps_serving(client, model_a, staged):
    v3 = factories.model_version(model=model_a)
    client.force_login(model_a.owner)
    url = reverse("registry:version-deploy", args=[model_a.slug, v3.number])
    html = client.post(
        url,
        {
            "environment": "staging",
            "endpoint": ENDPOINT,
            "traffic_share": "100",
            "replaces": str(staged.pk),
        },
    ).content.decode()
    assert f"#{staged.pk}</a> (v2, 100%), which becomes inactive" in html
    client.post(
        url,
        {
            "environment": "staging",
            "endpoint": ENDPOINT,
            "traffic_share": "100",
            "replaces": str(staged.pk),
            "confirmed": "on",
        },
    )
    staged.refresh_from_db()
    assert staged.status == DeploymentStatus.INACTIVE
    assert Deployment.objects.get(version=v3).replaces == staged


def test_a_bad_share_is_shown_beside_its_field_and_nothing_is_stored(client, model_a, versions):
    v1, _ = versions
    client.force_login(model_a.owner)
    url = reverse("registry:version-deploy", args=[model_a.slug, v1.number])
    response = client.post(
        url, {"environment": "staging", "endpoint": ENDPOINT, "traffic_share": "150"}
    )
    assert response.status_code == 200
    assert "less than or equal to 100" in field_error(response.content.decode(), "traffic_share")
    assert 'aria-invalid="true"' in response.content.decode()
    assert not Deployment.objects.exists()


def test_the_service_refusal_lands_beside_the_field_it_names(client, model_a, staged):
    """The endpoint already routes 100% to v2: another 50% is refused by the service."""
    v3 = factories.model_version(model=model_a)
    client.force_login(model_a.owner)
    before = AuditEvent.objects.count()
    response = client.post(
        reverse("registry:version-deploy", args=[model_a.slug, v3.number]),
        {"environment": "staging", "endpoint": ENDPOINT, "traffic_share": "50", "confirmed": "on"},
    )
    assert response.status_code == 200
    assert "would exceed 100%" in field_error(response.content.decode(), "traffic_share")
    assert not Deployment.objects.filter(version=v3).exists()
    assert AuditEvent.objects.count() == before


def test_production_is_not_offered_and_a_forged_post_is_refused(client, model_a, versions):
    v1, _ = versions
    client.force_login(model_a.owner)
    url = reverse("registry:version-deploy", args=[model_a.slug, v1.number])
    html = client.get(url).content.decode()
    assert 'value="production"' not in html
    assert reverse("approvals:request-new", args=[v1.pk]) + "?kind=production" in html
    response = client.post(
        url,
        {
            "environment": "production",
            "endpoint": ENDPOINT,
            "traffic_share": "100",
            "confirmed": "on",
        },
    )
    assert "not one of the available choices" in field_error(
        response.content.decode(), "environment"
    )
    assert not Deployment.objects.exists()


def test_a_viewer_is_refused_and_an_outsider_gets_404(client, model_a, versions, viewer, outsider):
    v1, _ = versions
    url = reverse("registry:version-deploy", args=[model_a.slug, v1.number])
    data = {
        "environment": "staging",
        "endpoint": ENDPOINT,
        "traffic_share": "100",
        "confirmed": "on",
    }
    client.force_login(viewer)
    for response in (client.get(url), client.post(url, data)):
        assert response.status_code == 302
        assert response["Location"] == reverse(
            "registry:version-detail", args=[model_a.slug, v1.number]
        )
    client.force_login(outsider)
    assert client.get(url).status_code == 404
    assert client.post(url, data).status_code == 404
    assert not Deployment.objects.exists()


def test_the_buttons_show_only_for_users_who_may_use_them(client, model_a, staged, viewer):
    detail = reverse("registry:deployment-detail", args=[staged.pk])
    version_page = reverse("registry:version-detail", args=[model_a.slug, staged.version.number])
    client.force_login(model_a.owner)
    html = client.get(detail).content.decode()
    for name in ("rollback", "canary", "retire", "settings"):
        assert reverse(f"registry:deployment-{name}", args=[staged.pk]) in html
    deploy = reverse("registry:version-deploy", args=[model_a.slug, staged.version.number])
    assert deploy in client.get(version_page).content.decode()
    client.force_login(viewer)
    html = client.get(detail).content.decode()
    for name in ("rollback", "canary", "retire", "settings"):
        assert reverse(f"registry:deployment-{name}", args=[staged.pk]) not in html
    assert deploy not in client.get(version_page).content.decode()


# --- canary ------------------------------------------------------------------------------------


@pytest.fixture
def split(model_a, versions):
    """v1 at 80% of a staging endpoint: room for a canary."""
    return factories.deployment(version=versions[0], endpoint=ENDPOINT, traffic_share=80)


def test_a_canary_states_its_share_then_runs_beside_the_deployment(client, model_a, split):
    v3 = factories.model_version(model=model_a)
    client.force_login(model_a.owner)
    url = reverse("registry:deployment-canary", args=[split.pk])
    assert client.get(url).status_code == 200
    data = {"version": "3", "traffic_share": "20"}
    html = client.post(url, data).content.decode()
    assert "Confirm: canary v3" in html and "20%" in html
    assert f"#{split.pk}</a> v1 at 80%" in html  # what keeps serving
    assert not Deployment.objects.filter(version=v3).exists()
    client.post(url, data | {"confirmed": "on"})
    canary = Deployment.objects.get(version=v3)
    assert (canary.endpoint, canary.environment, canary.traffic_share) == (
        ENDPOINT,
        "staging",
        Decimal(20),
    )
    split.refresh_from_db()
    assert split.status == DeploymentStatus.ACTIVE
    assert audited("registry.deployment.created", canary)


def test_a_canary_over_the_endpoints_capacity_is_refused_beside_the_share(client, model_a, split):
    v3 = factories.model_version(model=model_a)
    client.force_login(model_a.owner)
    response = client.post(
        reverse("registry:deployment-canary", args=[split.pk]),
        {"version": "3", "traffic_share": "30", "confirmed": "on"},
    )
    assert "would exceed 100%" in field_error(response.content.decode(), "traffic_share")
    assert not Deployment.objects.filter(version=v3).exists()


def test_a_production_canary_links_to_the_approval_request(client, model_a):
    v1 = factories.approved_version(model=model_a)
    production = factories.production_deployment(version=v1, traffic_share=90)
    v2 = factories.approved_version(model=model_a)
    client.force_login(model_a.owner)
    html = client.get(reverse("registry:deployment-canary", args=[production.pk])).content.decode()
    link = reverse("approvals:request-new", args=[v2.pk]) + "?kind=production&amp;endpoint="
    assert link in html
    request_page = client.get(
        reverse("approvals:request-new", args=[v2.pk]),
        {"kind": "production", "endpoint": production.endpoint, "traffic_share": "10"},
    ).content.decode()
    assert f'value="{production.endpoint}"' in request_page and 'value="10"' in request_page
    assert (
        client.post(reverse("registry:deployment-canary", args=[production.pk])).status_code == 200
    )
    assert Deployment.objects.count() == 1


# --- rollback ----------------------------------------------------------------------------------


def test_rollback_states_what_goes_and_what_comes_back_then_does_it(client, model_a, staged):
    client.force_login(model_a.owner)
    url = reverse("registry:deployment-rollback", args=[staged.pk])
    html = client.get(url).content.decode()
    assert "<strong>v2</strong> (deployment #" in html  # goes out
    assert "<strong>v1</strong>" in html  # comes back
    assert "<strong>100%</strong>" in html
    v1 = staged.replaces.version
    response = client.post(url, {"to_version": "1", "reason": "bad scores"})
    rollback = Deployment.objects.get(is_rollback=True)
    assert response["Location"] == reverse("registry:deployment-detail", args=[rollback.pk])
    assert rollback.version == v1 and rollback.replaces == staged
    staged.refresh_from_db()
    assert staged.status == DeploymentStatus.INACTIVE
    event = AuditEvent.objects.get(action="registry.deployment.rolled_back")
    assert event.after["reason"] == "bad scores"


def test_a_rollback_to_a_version_not_offered_is_refused_beside_the_field(client, model_a, staged):
    client.force_login(model_a.owner)
    later = factories.model_version(model=model_a)
    response = client.post(
        reverse("registry:deployment-rollback", args=[staged.pk]),
        {"to_version": str(later.number)},
    )
    assert response.status_code == 200
    assert "not one of the available choices" in response.content.decode()
    assert not Deployment.objects.filter(is_rollback=True).exists()


def test_rollback_and_retire_refuse_a_viewer_and_hide_from_an_outsider(
    client, model_a, staged, viewer, outsider
):
    for name in ("rollback", "retire", "canary", "settings"):
        url = reverse(f"registry:deployment-{name}", args=[staged.pk])
        client.force_login(viewer)
        assert client.get(url).status_code == 302
        assert client.post(url, {"to_version": "1"}).status_code == 302
        client.force_login(outsider)
        assert client.get(url).status_code == 404
        assert client.post(url).status_code == 404
    staged.refresh_from_db()
    assert staged.status == DeploymentStatus.ACTIVE
    assert not MonitoringSettings.objects.exists()


# --- retire ------------------------------------------------------------------------------------


def test_retire_states_what_happens_then_retires(client, model_a, staged):
    client.force_login(model_a.owner)
    url = reverse("registry:deployment-retire", args=[staged.pk])
    html = client.get(url).content.decode()
    assert "nothing: no version replaces it" in html and ENDPOINT in html
    response = client.post(url)
    assert response.status_code == 302
    staged.refresh_from_db()
    assert staged.status == DeploymentStatus.RETIRED
    assert audited("registry.deployment.retired", staged)
    again = client.get(url, follow=True)
    assert "already retired" in again.content.decode()


# --- monitoring settings -----------------------------------------------------------------------


def test_settings_save_thresholds_and_drift_methods_audited(client, model_a, staged):
    client.force_login(model_a.owner)
    url = reverse("registry:deployment-settings", args=[staged.pk])
    page = client.get(url).content.decode()
    assert 'name="accuracy_at_risk"' in page and 'name="drift__age"' in page
    response = client.post(
        url,
        {
            "positive_label": "yes",
            "accuracy_at_risk": "0.8",
            "accuracy_failing": "0.7",
            "drift__age": "psi",
            "drift__categorical": "chisquare",
        },
    )
    assert response.status_code == 302
    row = MonitoringSettings.objects.get(deployment=staged)
    assert row.thresholds["accuracy_at_risk"] == 0.8
    assert row.drift_methods == {"age": "psi", "categorical": "chisquare"}
    assert row.positive_label == "yes"
    assert audited("monitoring.settings.updated", row)


def test_bad_settings_show_beside_their_field_and_store_nothing(client, model_a, staged):
    client.force_login(model_a.owner)
    url = reverse("registry:deployment-settings", args=[staged.pk])
    response = client.post(
        url, {"positive_label": "1", "accuracy_at_risk": "0.7", "accuracy_failing": "0.9"}
    )
    assert "may not be above the at-risk level" in field_error(
        response.content.decode(), "accuracy_failing"
    )
    response = client.post(url, {"positive_label": "1", "error_rate_at_risk": "-1"})
    assert "greater than or equal to 0" in field_error(
        response.content.decode(), "error_rate_at_risk"
    )
    response = client.post(url, {"positive_label": "1", "drift__region": "ks"})
    assert "not one of the available choices" in field_error(
        response.content.decode(), "drift__region"
    )
    assert not MonitoringSettings.objects.exists()
    assert not AuditEvent.objects.filter(action="monitoring.settings.updated").exists()


def test_a_methods_own_options_survive_a_save_that_keeps_the_method(client, model_a, staged):
    factories.monitoring_settings(
        staged, drift_methods={"age": {"method": "psi", "threshold": 0.3}}
    )
    client.force_login(model_a.owner)
    url = reverse("registry:deployment-settings", args=[staged.pk])
    client.post(url, {"positive_label": "1", "drift__age": "psi"})
    assert MonitoringSettings.objects.get().drift_methods == {
        "age": {"method": "psi", "threshold": 0.3}
    }


def test_another_rollback_target_is_stated_before_it_is_posted(client, model_a, staged):
    v3 = factories.model_version(model=model_a)
    third = factories.deployment(version=v3, endpoint=ENDPOINT, replaces=staged)
    client.force_login(model_a.owner)
    url = reverse("registry:deployment-rollback", args=[third.pk])
    default = client.get(url).content.decode()
    assert "<strong>v2</strong>" in default and 'name="to_version" value="2"' in default
    chosen = client.get(url, {"to": "1"}).content.decode()
    assert "<strong>v1</strong>" in chosen and 'name="to_version" value="1"' in chosen
    assert "v2 served this endpoint before v3" in chosen
    client.post(url, {"to_version": "1"})
    assert Deployment.objects.get(is_rollback=True).version.number == 1
