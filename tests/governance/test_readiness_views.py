"""The readiness checklist pages (governance/readiness/views.py): the score and what blocks
approval, answering an item with text, a link, an attached artifact or an uploaded file (its
sha256 shown), the history of an item's answers; errors beside their field with nothing
stored; viewers read without a form, outsiders get 404. Who gets what on each route for every
role is in tests/test_permission_matrix.py."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from guardian.shortcuts import assign_perm

from governance.audit.models import AuditEvent
from governance.readiness.models import ChecklistAnswer
from governance.readiness.selectors import open_required_items, readiness
from governance.readiness.services import AnswerInput, answer_record, answers_record
from registry.models import Artifact
from tests import factories

pytestmark = pytest.mark.django_db


def field_error(html: str, field: str) -> str:
    found = re.search(rf'id="id_{field}_error">(.*?)</div>', html, re.S)
    assert found, f"no error beside {field}"
    return re.sub(r"<[^>]+>", " ", found.group(1))


@pytest.fixture
def version(model_a):
    return factories.model_version(model=model_a)


@pytest.fixture
def evidence_item(version):
    """A required item whose "yes" needs evidence."""
    return next(i for i in open_required_items(version=version) if i.evidence_required)


def answer_url(version, key: str) -> str:
    return reverse("readiness:answer", args=[version.model.slug, version.number, key])


def checklist_url(version) -> str:
    return reverse("readiness:checklist", args=[version.model.slug, version.number])


@pytest.fixture
def viewer(model_a):
    user = factories.data_scientist("vera")
    assign_perm("registry.view_registeredmodel", user, model_a)
    return user


def test_the_checklist_shows_the_score_and_exactly_what_blocks_approval(client, version):
    client.force_login(version.model.owner)
    open_items = open_required_items(version=version)
    html = client.get(checklist_url(version)).content.decode()
    assert "data-readiness-score>0%" in html
    blocking = html.split("data-blocking>")[1].split("</ul>")[0]
    assert [m for m in re.findall(r"<code>([^<]+)</code>", blocking)] == [i.key for i in open_items]
    factories.answer_required_items(version)
    html = client.get(checklist_url(version)).content.decode()
    assert "data-blocking-none" in html
    state = readiness(version)
    assert f"data-readiness-score>{round(state.overall.score * 100)}%" in html


def test_the_version_page_links_to_its_checklist(client, version):
    client.force_login(version.model.owner)
    page = client.get(reverse("registry:version-detail", args=[version.model.slug, version.number]))
    html = page.content.decode()
    assert checklist_url(version) in html
    blocking = len(open_required_items(version=version))
    assert f"{blocking} items required for risk tier medium are open and block approval" in html
    factories.answer_required_items(version)
    html = client.get(
        reverse("registry:version-detail", args=[version.model.slug, version.number])
    ).content.decode()
    assert "Nothing on the checklist blocks approval." in html


def test_an_answer_with_text_is_recorded_audited_and_in_the_history(client, version, evidence_item):
    client.force_login(version.model.owner)
    url = answer_url(version, evidence_item.key)
    response = client.post(url, {"answer": "yes", "evidence_text": "see the data sheet"})
    assert response.status_code == 302 and response["Location"] == url
    answer = ChecklistAnswer.objects.get(version=version, item=evidence_item)
    assert (answer.answer, answer.evidence_text) == ("yes", "see the data sheet")
    assert AuditEvent.objects.filter(
        action="readiness.answer.recorded", target_id=str(answer.pk)
    ).exists()
    client.post(url, {"answer": "no", "note": "the data sheet is outdated"})
    html = client.get(url).content.decode()
    history = html.split('id="history-heading"')[1]
    assert "No (was Yes)" in re.sub(r"<[^>]+>", "", history).replace("  ", " ")
    assert "see the data sheet" in history and "the data sheet is outdated" in history
    assert evidence_item.pk in {i.pk for i in open_required_items(version=version)}


def test_an_uploaded_evidence_file_is_stored_with_its_sha256_shown(client, version, evidence_item):
    content = b"%PDF-1.7\nmodel card of credit risk v1\n"
    client.force_login(version.model.owner)
    url = answer_url(version, evidence_item.key)
    response = client.post(
        url,
        {
            "answer": "yes",
            "evidence_file": SimpleUploadedFile("card.pdf", content, "application/pdf"),
        },
        follow=True,
    )
    digest = hashlib.sha256(content).hexdigest()
    html = response.content.decode()
    assert f"sha256 {digest}" in html  # the success message
    assert f"data-evidence-sha256>{digest}<" in html  # the current answer
    artifact = Artifact.objects.get(version=version)
    assert (artifact.sha256, artifact.kind, artifact.size) == (digest, "report", len(content))
    answer = ChecklistAnswer.objects.get(version=version, item=evidence_item)
    assert answer.evidence_artifact == artifact and answer.settles_item
    assert AuditEvent.objects.filter(action="registry.artifact.added").exists()
    assert AuditEvent.objects.filter(action="readiness.answer.recorded").exists()


def test_an_attached_artifact_can_be_the_evidence(client, version, evidence_item):
    from registry import services

    artifact = services.artifact_upload(
        version=version, actor=version.model.owner, upload=factories.binary_upload(), kind="report"
    )
    client.force_login(version.model.owner)
    client.post(
        answer_url(version, evidence_item.key),
        {"answer": "yes", "evidence_artifact": str(artifact.pk)},
    )
    assert ChecklistAnswer.objects.get().evidence_artifact == artifact


@pytest.mark.parametrize(
    ("data", "field", "text"),
    [
        ({"answer": "yes"}, "evidence_text", "needs evidence"),
        ({"answer": "not_applicable"}, "note", "needs a note"),
        ({"answer": "yes", "evidence_url": "not a url"}, "evidence_url", "valid URL"),
        ({"answer": "maybe"}, "answer", "not one of the available choices"),
        ({"answer": "yes", "evidence_artifact": "999999"}, "evidence_artifact", "valid choice"),
    ],
)
def test_a_bad_answer_shows_its_error_beside_the_field_and_stores_nothing(
    client, version, evidence_item, data, field, text
):
    client.force_login(version.model.owner)
    before = AuditEvent.objects.count()
    response = client.post(answer_url(version, evidence_item.key), data)
    assert response.status_code == 200
    assert text in field_error(response.content.decode(), field)
    assert not ChecklistAnswer.objects.exists()
    assert AuditEvent.objects.count() == before


def test_a_refused_answer_keeps_no_uploaded_file(client, version, evidence_item, settings):
    """A "not applicable" without its note is refused after the file was hashed: the artifact
    row goes with the transaction and the stored file is removed."""
    client.force_login(version.model.owner)
    response = client.post(
        answer_url(version, evidence_item.key),
        {
            "answer": "not_applicable",
            "evidence_file": SimpleUploadedFile("card.pdf", b"evidence", "application/pdf"),
        },
    )
    assert "needs a note" in field_error(response.content.decode(), "note")
    assert not Artifact.objects.exists() and not ChecklistAnswer.objects.exists()
    assert not [p for p in Path(settings.MEDIA_ROOT).rglob("*") if p.is_file()]


def test_a_file_and_an_attached_artifact_together_are_refused(client, version, evidence_item):
    from registry import services

    artifact = services.artifact_upload(
        version=version, actor=version.model.owner, upload=factories.binary_upload(), kind="report"
    )
    client.force_login(version.model.owner)
    response = client.post(
        answer_url(version, evidence_item.key),
        {
            "answer": "yes",
            "evidence_artifact": str(artifact.pk),
            "evidence_file": SimpleUploadedFile("card.pdf", b"evidence", "application/pdf"),
        },
    )
    assert "not both" in field_error(response.content.decode(), "evidence_file")
    assert Artifact.objects.count() == 1 and not ChecklistAnswer.objects.exists()


def test_a_viewer_reads_without_a_form_and_is_refused_an_outsider_gets_404(
    client, version, evidence_item, viewer, outsider
):
    url = answer_url(version, evidence_item.key)
    client.force_login(viewer)
    page = client.get(url)
    assert page.status_code == 200 and page.context["form"] is None
    assert client.get(checklist_url(version)).status_code == 200
    refused = client.post(url, {"answer": "yes", "evidence_text": "x"}, follow=True)
    assert "You may not answer" in refused.content.decode()
    client.force_login(outsider)
    assert client.get(url).status_code == 404
    assert client.get(checklist_url(version)).status_code == 404
    assert client.post(url, {"answer": "yes", "evidence_text": "x"}).status_code == 404
    assert not ChecklistAnswer.objects.exists()


def test_an_unknown_item_is_404(client, version):
    client.force_login(version.model.owner)
    assert client.get(answer_url(version, "nothing.here")).status_code == 404


def test_an_approved_versions_checklist_is_frozen(client, model_a, evidence_item):
    approved = factories.approved_version(model=model_a)
    client.force_login(model_a.owner)
    url = answer_url(approved, evidence_item.key)
    page = client.get(url)
    assert page.context["form"] is None and "frozen" in page.content.decode()
    before = AuditEvent.objects.count()
    refused = client.post(url, {"answer": "no"}, follow=True)
    assert "frozen" in refused.content.decode()
    assert AuditEvent.objects.count() == before


# --- pinned query counts -------------------------------------------------------------------------


def _queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured.captured_queries)


def test_the_checklist_page_costs_the_same_with_one_answer_or_every_answer(
    client, version, django_assert_num_queries
):
    from registry import services

    owner = version.model.owner
    items = open_required_items(version=version)
    answer_record(
        version=version, actor=owner, item=items[0].key, answer="yes", evidence_text="one"
    )
    client.force_login(owner)
    few = _queries(client, checklist_url(version))
    artifact = services.artifact_upload(
        version=version, actor=owner, upload=factories.binary_upload(), kind="report"
    )
    answers_record(
        version=version,
        actor=owner,
        answers=[
            AnswerInput(item=i.key, answer="yes", evidence_artifact=artifact.pk) for i in items[1:]
        ],
    )
    with django_assert_num_queries(few):
        client.get(checklist_url(version))


def test_the_history_page_costs_the_same_with_one_entry_or_a_page_of_them(
    client, version, evidence_item, django_assert_num_queries
):
    owner = version.model.owner
    answer_record(version=version, actor=owner, item=evidence_item.key, answer="no")
    client.force_login(owner)
    url = answer_url(version, evidence_item.key)
    few = _queries(client, url)
    for n in range(30):
        answer_record(
            version=version,
            actor=owner,
            item=evidence_item.key,
            answer="yes",
            evidence_text=f"evidence {n}",
        )
    with django_assert_num_queries(few):
        response = client.get(url)
    assert "Page 1 of 2" in response.content.decode()


def test_the_upload_service_refuses_a_viewer_before_storing_anything(
    version, evidence_item, viewer, settings
):
    from django.core.exceptions import PermissionDenied

    from governance.readiness.services import answer_record_with_upload

    with pytest.raises(PermissionDenied):
        answer_record_with_upload(
            version=version,
            actor=viewer,
            item=evidence_item.key,
            answer="yes",
            upload=SimpleUploadedFile("card.pdf", b"evidence", "application/pdf"),
        )
    assert not Artifact.objects.exists() and not ChecklistAnswer.objects.exists()
    assert not [p for p in Path(settings.MEDIA_ROOT).rglob("*") if p.is_file()]
