"""Governance and operations pages: the audit trail, the job runs, the read-only admins, and
the lineage SVG layout they draw with."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest
from django.utils import timezone

from governance import audit
from governance.models import AuditEvent
from monitoring.choices import JobState
from monitoring.models import JobRun
from portal import lineage_svg
from tests import factories

pytestmark = pytest.mark.django_db


def _actions(response) -> list[str]:
    return [event.action for event in response.context["page_obj"].object_list]


def _targets(response) -> set[str]:
    return {event.target_repr for event in response.context["page_obj"].object_list}


# Audit trail -----------------------------------------------------------------------------------


@pytest.fixture
def history(model_a, model_b):
    """Audit entries about both models, their versions and a lineage edge."""
    version_a = factories.model_version(model=model_a)
    factories.deployment(version=version_a)
    factories.model_version(model=model_b)
    audit.record(actor="integrity-scan", action="monitoring.integrity.checked")
    return version_a


def test_owner_reads_the_entries_about_their_models_only(client, owner, history):
    client.force_login(owner)
    response = client.get("/governance/audit/")
    assert response.status_code == 200
    targets = _targets(response)
    assert "Credit risk" in targets and "Credit risk v1" in targets
    assert not any("Churn" in t for t in targets)
    assert "monitoring.integrity.checked" not in _actions(response)
    assert response.context["full_log"] is False


def test_reviewer_and_superuser_read_the_whole_log(client, reviewer, admin, history):
    for user in (reviewer, admin):
        client.force_login(user)  # itself audited (auth.login)
        total = AuditEvent.objects.count()
        response = client.get("/governance/audit/")
        assert response.context["page_obj"].paginator.count == total
        assert response.context["full_log"] is True


def test_outsider_reads_only_the_entries_about_their_own_account(client, outsider, owner, history):
    client.force_login(owner)
    client.force_login(outsider)
    response = client.get("/governance/audit/")
    assert response.status_code == 200
    events = list(response.context["page_obj"].object_list)
    assert events and {(e.target_type, e.target_id) for e in events} == {
        ("auth.user", str(outsider.pk))
    }
    assert AuditEvent.objects.filter(action="auth.login", target_id=str(owner.pk)).exists()


def test_audit_filters_by_action_actor_and_target_type(client, reviewer, owner, history):
    client.force_login(reviewer)
    created = client.get("/governance/audit/?action=registry.model.created")
    assert set(_actions(created)) == {"registry.model.created"} and len(_actions(created)) == 2
    by_actor = client.get(f"/governance/audit/?actor={owner.username[:3]}")
    assert {e.actor_name for e in by_actor.context["page_obj"].object_list} == {owner.username}
    versions = client.get("/governance/audit/?target_type=registry.modelversion")
    assert {e.target_type for e in versions.context["page_obj"].object_list} == {
        "registry.modelversion"
    }
    options = dict(versions.context["form"].fields["target_type"].choices)
    assert options["registry.modelversion"] == "Model version"


def test_audit_trail_is_newest_first_paginated_and_links_targets(client, reviewer, history):
    for i in range(55):
        audit.record(actor="system", action=f"test.bulk.{i % 3}")
    client.force_login(reviewer)
    first = client.get("/governance/audit/")
    seqs = [e.seq for e in first.context["page_obj"].object_list]
    assert len(seqs) == 50 and seqs == sorted(seqs, reverse=True)
    assert len(client.get("/governance/audit/?page=2").context["page_obj"].object_list) > 0
    linked = client.get("/governance/audit/?target_type=registry.modelversion")
    urls = {e.target_url for e in linked.context["events"]}
    assert f"/registry/models/{history.model.slug}/v{history.number}/" in urls


def test_audit_trail_shows_before_and_after_as_json(client, owner, model_a):
    from registry import services

    services.model_update(model=model_a, actor=owner, risk_tier="high")
    client.force_login(owner)
    text = client.get("/governance/audit/?action=registry.model.updated").content.decode()
    assert "&quot;risk_tier&quot;: &quot;high&quot;" in text


def test_audit_entries_cannot_be_changed_in_the_admin(client, admin, history):
    client.force_login(admin)
    event = AuditEvent.objects.first()
    assert client.get("/admin/governance/auditevent/").status_code == 200
    assert client.get(f"/admin/governance/auditevent/{event.pk}/change/").status_code == 200
    assert client.get("/admin/governance/auditevent/add/").status_code == 403
    assert client.post(f"/admin/governance/auditevent/{event.pk}/delete/").status_code == 403
    page = client.get(f"/admin/governance/auditevent/{event.pk}/change/").content.decode()
    assert 'name="_save"' not in page
    assert client.get("/admin/governance/lineageedge/").status_code == 200
    assert client.get("/admin/governance/lineageedge/add/").status_code == 403


# Job runs ---------------------------------------------------------------------------------------


@pytest.fixture
def runs(owner):
    now = timezone.now()
    done = JobRun.objects.create(
        kind="artifact_integrity_scan",
        state=JobState.SUCCEEDED,
        started_at=now - dt.timedelta(seconds=90),
        finished_at=now - dt.timedelta(seconds=30),
        result={"checked": 12, "problems": []},
    )
    failed = JobRun.objects.create(
        kind="artifact_integrity_scan",
        state=JobState.FAILED,
        attempts=5,
        error="OSError: storage unreachable",
        requested_by=owner,
    )
    return done, failed


def test_operators_see_every_job_run_with_state_duration_and_error(client, reviewer, runs):
    client.force_login(reviewer)
    response = client.get("/monitoring/jobs/")
    assert response.status_code == 200
    assert {r.pk for r in response.context["page_obj"].object_list} == {r.pk for r in runs}
    text = response.content.decode()
    assert "Succeeded" in text and "Failed" in text
    assert "60.0 s" in text and "OSError: storage unreachable" in text


def test_other_users_see_only_the_runs_they_requested(client, owner, outsider, runs):
    client.force_login(owner)
    assert [r.pk for r in client.get("/monitoring/jobs/").context["page_obj"]] == [runs[1].pk]
    client.force_login(outsider)
    response = client.get("/monitoring/jobs/")
    assert "No job runs yet" in response.content.decode()
    assert "worker" in response.content.decode()


def test_job_runs_filter_by_state(client, admin, runs):
    client.force_login(admin)
    rows = client.get("/monitoring/jobs/?state=failed").context["page_obj"].object_list
    assert [r.pk for r in rows] == [runs[1].pk]


def test_job_runs_are_read_only_in_the_admin(client, admin, runs):
    client.force_login(admin)
    assert client.get("/admin/monitoring/jobrun/").status_code == 200
    assert client.get("/admin/monitoring/jobrun/add/").status_code == 403


# Lineage SVG layout (pure) ---------------------------------------------------------------


def _graph(edges: list[tuple[str, str, str]], root: str) -> dict:
    keys = {root} | {k for e in edges for k in (e[0], e[2])}
    nodes = [
        {"key": k, "kind": k.split(":")[0], "id": int(k.split(":")[1]), "label": k, "url": f"/{k}"}
        for k in sorted(keys)
    ]
    return {
        "root": root,
        "nodes": nodes,
        "edges": [{"upstream": u, "relation": r, "downstream": d} for u, r, d in edges],
    }


def test_layout_puts_upstream_left_and_downstream_right_of_the_root():
    graph = _graph(
        [
            ("dataset:1", "derived_from", "dataset:2"),
            ("dataset:2", "trained_on", "version:1"),
            ("version:1", "produced_by", "artifact:1"),
            ("version:1", "deployed_from", "deployment:1"),
        ],
        "version:1",
    )
    layout = lineage_svg.layout(graph)
    layer = {box.key: box.layer for box in layout.boxes}
    assert layer == {
        "dataset:1": -2,
        "dataset:2": -1,
        "version:1": 0,
        "artifact:1": 1,
        "deployment:1": 1,
    }
    x = {box.key: box.x for box in layout.boxes}
    assert x["dataset:1"] < x["dataset:2"] < x["version:1"] < x["artifact:1"]
    assert x["artifact:1"] == x["deployment:1"]
    assert [b.key for b in layout.boxes if b.is_root] == ["version:1"]


def test_layout_boxes_fit_and_do_not_overlap():
    edges = [(f"dataset:{i}", "trained_on", "version:1") for i in range(1, 6)]
    layout = lineage_svg.layout(_graph(edges, "version:1"))
    for box in layout.boxes:
        assert box.x >= 0 and box.x + box.width <= layout.width
        assert box.y >= 0 and box.y + box.height <= layout.height
    column = sorted((b for b in layout.boxes if b.layer == -1), key=lambda b: b.y)
    assert len(column) == 5
    assert all(a.y + a.height < b.y for a, b in itertools.pairwise(column))


def test_layout_routes_each_edge_from_upstream_right_side_to_downstream_left_side():
    layout = lineage_svg.layout(_graph([("dataset:1", "trained_on", "version:1")], "version:1"))
    boxes = {b.key: b for b in layout.boxes}
    (line,) = layout.lines
    assert line.x1 == boxes["dataset:1"].x + boxes["dataset:1"].width
    assert line.x2 == boxes["version:1"].x
    assert line.relation_label == "trained on"


def test_layout_survives_cycles_and_lists_unreachable_nodes_apart():
    graph = _graph(
        [("version:1", "deployed_from", "deployment:1"), ("deployment:1", "x", "version:1")],
        "version:1",
    )
    graph["nodes"].append({"key": "dataset:9", "kind": "dataset", "id": 9, "label": "orphan"})
    layout = lineage_svg.layout(graph)
    assert {b.key for b in layout.boxes} == {"version:1", "deployment:1"}
    assert [n["key"] for n in layout.unplaced] == ["dataset:9"]


def test_layout_of_a_lone_node_is_one_box_and_long_labels_are_shortened():
    graph = _graph([], "version:1")
    graph["nodes"][0]["label"] = "A model with a very long name indeed v12"
    layout = lineage_svg.layout(graph)
    (box,) = layout.boxes
    assert layout.lines == [] and box.is_root
    assert len(box.short_label) <= lineage_svg.LABEL_CHARS and box.short_label.endswith("…")


def test_edge_rows_name_both_ends_and_the_relation():
    rows = lineage_svg.edge_rows(_graph([("dataset:1", "trained_on", "version:1")], "version:1"))
    assert rows == [
        {
            "upstream": {
                "key": "dataset:1",
                "kind": "dataset",
                "id": 1,
                "label": "dataset:1",
                "url": "/dataset:1",
            },
            "relation": "trained on",
            "downstream": {
                "key": "version:1",
                "kind": "version",
                "id": 1,
                "label": "version:1",
                "url": "/version:1",
            },
        }
    ]


def test_owner_grants_access_from_the_model_page_and_it_is_audited(client, model_a, outsider):
    from governance.models import AuditEvent

    client.force_login(model_a.owner)
    page = client.get(f"/registry/models/{model_a.slug}/")
    assert "Grant or revoke access" in page.content.decode()
    response = client.post(
        f"/governance/models/{model_a.slug}/access/",
        {"principal": outsider.username, "kind": "user", "action": "view", "change": "grant"},
        follow=True,
    )
    assert f"Granted view for {outsider.username}" in response.content.decode()
    assert AuditEvent.objects.filter(action="governance.access.granted").exists()
    client.force_login(outsider)
    assert client.get(f"/registry/models/{model_a.slug}/").status_code == 200


def test_a_viewer_sees_no_access_form_and_cannot_post_one(client, model_a, reviewer, outsider):
    client.force_login(reviewer)
    page = client.get(f"/registry/models/{model_a.slug}/")
    assert "Grant or revoke access" not in page.content.decode()
    response = client.post(
        f"/governance/models/{model_a.slug}/access/",
        {"principal": outsider.username, "kind": "user", "action": "view", "change": "grant"},
        follow=True,
    )
    assert "may not manage_access" in response.content.decode()


def test_watching_a_model_from_its_page(client, model_a, reviewer):
    from governance.approvals.models import ModelWatch

    client.force_login(reviewer)
    client.post(f"/governance/models/{model_a.slug}/watch/", {"watch": "1"})
    assert ModelWatch.objects.filter(user=reviewer, model=model_a).exists()
    client.post(f"/governance/models/{model_a.slug}/watch/", {"watch": "0"})
    assert not ModelWatch.objects.filter(user=reviewer, model=model_a).exists()


def test_the_reports_page_shows_the_verified_chain_to_an_auditor(client, model_a):
    from registry.roles import AUDITORS
    from tests import factories as f

    auditor = f.UserFactory(username="audrey", roles=[AUDITORS])
    client.force_login(auditor)
    html = client.get("/governance/reports/").content.decode()
    assert "Verified" in html and "Audit log as CSV" in html
    export = client.get("/api/v1/audit/events/export.csv?format=csv")
    assert export.status_code == 200 and export["Content-Type"].startswith("text/csv")


def test_the_reports_page_keeps_the_full_log_from_an_owner(client, model_a):
    client.force_login(model_a.owner)
    html = client.get("/governance/reports/").content.decode()
    assert "Verified" not in html and "for auditors, reviewers and administrators" in html


def test_the_audit_trail_filters_by_object_and_time(client, admin, model_a):
    import datetime as dt

    from django.utils import timezone

    from tests import factories as f

    version = f.model_version(model=model_a)
    client.force_login(admin)
    by_object = client.get(
        "/governance/audit/", {"target_type": "registry.modelversion", "target_id": str(version.pk)}
    )
    html = by_object.content.decode()
    # Each action appears twice in the filter menu (value and label); more where rows show it.
    assert html.count("registry.version.registered") > 2
    assert html.count("registry.model.created") == 2
    future = (timezone.localtime() + dt.timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M")
    later = client.get("/governance/audit/", {"since": future}).content.decode()
    assert later.count("registry.version.registered") <= 2
