"""The audit log API: verdict (auditors, reviewers and superusers), entries and CSV export
(everyone, by the audit page's rule)."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from django.db import connection

from governance import audit
from governance.audit.chain import verify_chain
from governance.audit.context import AuditContext, bound
from governance.audit.export import csv_cell, neutralise
from governance.audit.testing import guards_dropped
from governance.models import AuditEvent
from registry.roles import AUDITORS
from tests import factories

pytestmark = pytest.mark.django_db

VERIFY, EVENTS, EXPORT = (
    "/api/v1/audit/verify/",
    "/api/v1/audit/events/",
    ("/api/v1/audit/events/export.csv"),
)


@pytest.fixture
def auditor(db):
    return factories.UserFactory(username="audrey", roles=[AUDITORS])


@pytest.fixture
def readers(request):
    return {
        "auditor": lambda: request.getfixturevalue("auditor"),
        "reviewer": lambda: request.getfixturevalue("reviewer"),
        "superuser": lambda: request.getfixturevalue("admin"),
    }


def csv_rows(response) -> list[dict[str, str]]:
    text = b"".join(response.streaming_content).decode()
    return list(csv.DictReader(io.StringIO(text)))


# Who may read ------------------------------------------------------------------------------


URLS = [VERIFY, EVENTS, f"{EVENTS}1/", EXPORT]


@pytest.mark.parametrize("role", ["auditor", "reviewer", "superuser"])
def test_auditors_reviewers_and_superusers_read_the_log(api_as, readers, model_a, role):
    client = api_as(readers[role]())
    assert [client.get(url).status_code for url in URLS] == [200] * len(URLS)


def test_owners_and_outsiders_may_not_verify_the_whole_chain(api_as, owner, outsider, model_a):
    for user in (owner, outsider):
        assert api_as(user).get(VERIFY).status_code == 403


def test_an_owner_reads_the_same_entries_in_the_api_as_on_the_audit_page(
    api_as, client, owner, model_a, model_b
):
    """One rule (`audit_visible`) for both: the entries about the owner's model, not about
    the other one, and the same ids."""
    factories.model_version(model=model_a)
    factories.model_version(model=model_b)
    client.force_login(owner)
    page = client.get("/governance/audit/?page=1")
    on_page = {event.seq for event in page.context["page_obj"].object_list}
    in_api = {row["seq"] for row in api_as(owner).get(EVENTS).json()["results"]}
    assert on_page and in_api == on_page
    assert not AuditEvent.objects.filter(seq__in=in_api, target_repr__startswith="Churn").exists()
    hidden = AuditEvent.objects.filter(target_repr__startswith="Churn").first()
    assert api_as(owner).get(f"{EVENTS}{hidden.seq}/").status_code == 404
    exported = csv_rows(api_as(owner).get(EXPORT))
    assert {int(row["seq"]) for row in exported} <= on_page | in_api


def test_an_outsider_reads_only_the_entries_about_their_own_account(api_as, outsider, model_a):
    audit.record(actor=outsider, action="auth.login", target=outsider)
    rows = api_as(outsider).get(EVENTS).json()["results"]
    assert rows and {(r["target_type"], r["target_id"]) for r in rows} == {
        ("auth.user", str(outsider.pk))
    }


def test_anonymous_callers_must_authenticate(api, model_a):
    assert api.get(EVENTS).status_code == 401


def test_writes_are_not_allowed_even_for_a_superuser(api_as, admin, model_a):
    client = api_as(admin)
    assert client.post(EVENTS, {}, format="json").status_code == 405
    assert client.delete(f"{EVENTS}1/").status_code == 405
    assert client.post(VERIFY, {}, format="json").status_code == 405


# Verify --------------------------------------------------------------------------------------


def test_verify_reports_the_verdict_and_the_latest_checkpoint(
    api_as, auditor, settings, django_capture_on_commit_callbacks
):
    settings.STEWARD_AUDIT_CHECKPOINT_EVERY = 3
    with django_capture_on_commit_callbacks(execute=True):
        for i in range(7):
            audit.record(actor="system", action=f"test.{i}")
    body = api_as(auditor).get(VERIFY).json()
    last = AuditEvent.objects.last()
    assert body | {"checkpoint": None} == {
        "ok": True,
        "count": 7,
        "head_hash": last.hash,
        "bad_seq": None,
        "reason": "",
        "window": None,
        "signed_through": 6,
        "checkpoints": 2,
        "checkpoint": None,
        "notes": [],
    }
    assert body["checkpoint"]["seq"] == 6
    assert body["checkpoint"]["head_hash"] == AuditEvent.objects.get(seq=6).hash


def test_verify_names_the_first_bad_entry(api_as, auditor, model_a):
    factories.model_version(model=model_a)
    with guards_dropped(connection), connection.cursor() as cursor:
        cursor.execute("UPDATE governance_auditevent SET action = 'forged' WHERE seq = 2")
    body = api_as(auditor).get(VERIFY).json()
    assert (body["ok"], body["bad_seq"]) == (False, 2)
    assert "modified" in body["reason"]


# Entries -------------------------------------------------------------------------------------


def test_entries_are_paginated_in_chain_order_and_the_pages_verify_offline(api_as, auditor):
    for i in range(60):
        audit.record(actor="system", action=f"test.bulk.{i % 3}")
    client = api_as(auditor)
    first = client.get(EVENTS).json()
    second = client.get(first["next"]).json()
    assert first["count"] == 60 and len(first["results"]) == 50
    entries = first["results"] + second["results"]
    assert [e["seq"] for e in entries] == list(range(1, 61))
    assert verify_chain(entries).ok
    newest = client.get(EVENTS, {"ordering": "-seq"}).json()["results"][0]
    assert newest["seq"] == 60


def test_entries_filter_by_action_actor_target_and_time(api_as, auditor, owner, model_a):
    version = factories.model_version(model=model_a)
    cut = dt.datetime.now(dt.UTC)
    audit.record(actor="system", action="test.later")
    client = api_as(auditor)

    def seqs(**params: str) -> list[int]:
        return [e["seq"] for e in client.get(EVENTS, params).json()["results"]]

    everything = list(AuditEvent.objects.values_list("seq", flat=True))
    assert seqs(action="registry.model.created") == [1]
    assert seqs(actor=owner.username) == everything[:-1]
    assert seqs(actor=owner.username[:3]) == []  # exact user name, not a substring
    assert seqs(target_type="registry.modelversion", target_id=str(version.pk)) == [
        e.seq for e in AuditEvent.objects.filter(target_type="registry.modelversion")
    ]
    assert seqs(since=cut.isoformat()) == everything[-1:]
    assert seqs(until=cut.isoformat()) == everything[:-1]
    assert client.get(EVENTS, {"since": "not a time"}).status_code == 400


def test_one_entry_is_read_by_its_sequence_number(api_as, auditor, model_a):
    body = api_as(auditor).get(f"{EVENTS}1/").json()
    assert body == AuditEvent.objects.get(seq=1).as_chain_entry()
    assert api_as(auditor).get(f"{EVENTS}999/").status_code == 404


def test_the_entry_list_runs_a_fixed_number_of_queries(api_as, auditor, django_assert_num_queries):
    for i in range(30):
        audit.record(actor="system", action=f"test.{i}")
    client = api_as(auditor)
    client.get(EVENTS)  # the reader's permissions are cached on the user object after this
    with django_assert_num_queries(2):  # count, page
        assert client.get(EVENTS).status_code == 200


# CSV export ----------------------------------------------------------------------------------


@pytest.mark.parametrize("start", ["=", "+", "-", "@", "\t", "\r"])
def test_a_cell_starting_like_a_formula_gets_a_leading_apostrophe(start):
    assert neutralise(f"{start}HYPERLINK(1)") == f"'{start}HYPERLINK(1)"


def test_ordinary_cells_are_left_alone():
    assert [neutralise("report"), neutralise(""), neutralise("a=b")] == ["report", "", "a=b"]
    assert csv_cell(None) == "" and csv_cell(7) == 7 and csv_cell({"b": 1}) == '{"b": 1}'


def test_the_export_neutralises_formulas_in_every_text_column(api_as, auditor):
    with bound(AuditContext(request_id="@req", remote_addr="-10.0.0.1")):
        audit.record(
            actor="+operator",
            action='=HYPERLINK("http://evil.example","x")',
            before={"note": "=1+1"},
            after=None,
        )
    row = csv_rows(api_as(auditor).get(EXPORT))[0]
    assert row["action"] == """'=HYPERLINK("http://evil.example","x")"""
    assert (row["actor_name"], row["request_id"], row["remote_addr"]) == (
        "'+operator",
        "'@req",
        "'-10.0.0.1",
    )
    assert row["before"] == '{"note": "=1+1"}'  # starts with "{": shown as text
    assert (row["after"], row["seq"], row["prev_hash"]) == ("", "1", "0" * 64)


def test_the_export_applies_the_filters_and_is_itself_audited(api_as, auditor, model_a):
    factories.model_version(model=model_a)
    response = api_as(auditor).get(EXPORT, {"action": "registry.model.created"})
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    rows = csv_rows(response)
    assert [row["action"] for row in rows] == ["registry.model.created"]
    assert list(rows[0]) == [
        "seq",
        "created_at",
        "actor_id",
        "actor_name",
        "action",
        "target_type",
        "target_id",
        "target_repr",
        "before",
        "after",
        "request_id",
        "remote_addr",
        "prev_hash",
        "hash",
    ]
    event = AuditEvent.objects.last()
    assert (event.action, event.actor_name) == ("governance.audit.exported", auditor.username)
    assert event.after == {
        "format": "csv",
        "filters": {"action": "registry.model.created"},
        "count": 1,
        "through": event.seq - 1,
    }


def test_the_export_does_not_contain_its_own_entry(api_as, auditor, model_a):
    rows = csv_rows(api_as(auditor).get(EXPORT))
    exported = AuditEvent.objects.get(action="governance.audit.exported")
    assert [int(row["seq"]) for row in rows] == list(range(1, exported.seq))


def test_the_export_answers_bad_filters_with_400(api_as, auditor):
    response = api_as(auditor).get(EXPORT, {"until": "yesterday-ish"}, HTTP_ACCEPT="text/csv")
    assert response.status_code == 400
    assert not AuditEvent.objects.filter(action="governance.audit.exported").exists()
