"""The readiness checklist pages of a version: the score, what blocks approval, every item with
its current answer and evidence; one page per item to answer it (text, a link, an artifact of
the version, or a file uploaded as one, its sha256 shown) and read its history.

Answers are written by `services.answer_record` / `answer_record_with_upload` (permission,
freezing, validation and audit are theirs). A version the user may not view is a 404; one the
user may view but not change shows no form, and a post is refused with a message.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_safe

from governance.readiness import selectors, services
from governance.readiness.choices import AnswerChoice
from governance.readiness.models import ChecklistAnswer, ChecklistItem
from registry import selectors as registry_selectors
from registry.actors import Actor, acting_user
from registry.choices import Action
from registry.errors import ConflictError
from registry.form_errors import show_service_error
from registry.forms import choice_field
from registry.models import Artifact, ModelVersion, RegisteredModel

HISTORY_PAGE_SIZE = 20
# A service's error keys that belong beside the upload field (the artifact service's names).
FILE_ERROR_KEYS = {"file", "name", "size", "kind"}


def _may_change(user: Actor, version: ModelVersion) -> bool:
    return (
        RegisteredModel.objects.restrict(user, Action.CHANGE).filter(pk=version.model_id).exists()
    )


def _artifacts(version: ModelVersion) -> dict[int, Artifact]:
    """The version's artifacts by id, read once (the evidence artifacts shown come from here,
    never one query per answer)."""
    return {a.pk: a for a in Artifact.objects.filter(version=version).order_by("name")}


class AnswerForm(forms.Form):
    answer = forms.ChoiceField(choices=AnswerChoice.choices, widget=forms.RadioSelect)
    evidence_text = forms.CharField(
        required=False,
        max_length=20_000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="What shows it: a summary, a ticket, where the document lives.",
    )
    evidence_url = forms.URLField(
        label="Evidence link",
        required=False,
        max_length=500,
        assume_scheme="https",
        help_text="A link to the evidence (https://…).",
    )
    evidence_artifact = forms.TypedChoiceField(
        required=False,
        coerce=int,
        empty_value=None,
        label="Evidence artifact",
        help_text="A file already attached to this version.",
    )
    evidence_file = forms.FileField(
        required=False,
        label="Or upload an evidence file",
        help_text="Stored as a report artifact of this version; Steward computes its sha256 "
        "on upload and shows it with the answer. On a version under review this changes its "
        "release manifest, and the reviewers are told.",
    )
    note = forms.CharField(
        required=False,
        max_length=20_000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text='Required for "not applicable": say why.',
    )

    def __init__(self, *args: Any, artifacts: dict[int, Artifact], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choice_field(self, "evidence_artifact").choices = [("", "None")] + [
            (
                pk,
                f"{a.name} ({a.get_kind_display().lower()}"
                + (f", sha256 {a.sha256[:12]}…)" if a.sha256 else ")"),
            )
            for pk, a in artifacts.items()
        ]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("evidence_file") and data.get("evidence_artifact"):
            self.add_error(
                "evidence_file", "Choose an attached artifact or upload a file, not both."
            )
        return data


@login_required
@require_safe
def checklist(request: HttpRequest, slug: str, number: int) -> HttpResponse:
    """The version's checklist: score, blocking items, every item with its current answer."""
    actor = acting_user(request)
    version = registry_selectors.version_get(user=actor, slug=slug, number=number)
    state = selectors.readiness(version)
    items = selectors.template_items(state.template) if state.template else []
    answers = {a.item_id: a for a in state.answers}
    artifacts = _artifacts(version)
    blocking = {item.pk for item in state.open_required}
    sections: list[dict[str, Any]] = []
    tallies = {s.section.pk: s.tally for s in state.sections}
    for item in items:
        if not sections or sections[-1]["section"].pk != item.section_id:
            sections.append(
                {"section": item.section, "tally": tallies[item.section_id], "rows": []}
            )
        answer = answers.get(item.pk)
        sections[-1]["rows"].append(
            {
                "item": item,
                "answer": answer,
                "artifact": artifacts.get(answer.evidence_artifact_id or 0) if answer else None,
                "required": item.is_required_for(state.risk_tier),
                "blocking": item.pk in blocking,
            }
        )
    context = {
        "version": version,
        "model": version.model,
        "state": state,
        "score_percent": round(state.overall.score * 100),
        "sections": sections,
        "may_change": _may_change(actor, version) and not state.frozen,
    }
    return render(request, "readiness/checklist.html", context)


@login_required
@require_safe
def crosswalk(request: HttpRequest, slug: str, number: int) -> HttpResponse:
    """The version's checklist read as evidence for ISO/IEC 42001 Annex A controls and NIST AI
    RMF subcategories: per framework how many controls are evidenced, then every control with
    the items behind it (404 when the version is not visible)."""
    from governance.readiness import crosswalk as cw

    version = registry_selectors.version_get(user=acting_user(request), slug=slug, number=number)
    result = cw.coverage(version)
    frameworks = [
        {
            "name": name,
            "summary": result.summary(name),
            "controls": [c for c in result.controls if c.framework == name],
        }
        for name in (cw.ISO_42001, cw.NIST_AI_RMF)
    ]
    context = {
        "version": version,
        "model": version.model,
        "coverage": result,
        "frameworks": frameworks,
        "crosswalk_page": True,
    }
    return render(request, "readiness/crosswalk.html", context)


def _item(version: ModelVersion, key: str) -> ChecklistItem:
    template = selectors.template_for(version=version)
    item = template.items.select_related("section").filter(key=key).first() if template else None
    if item is None:
        raise Http404("no such checklist item")
    return item


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def answer(request: HttpRequest, slug: str, number: int, key: str) -> HttpResponse:
    """One item: its question, current answer and evidence, the form, and its history."""
    actor = acting_user(request)
    version = registry_selectors.version_get(user=actor, slug=slug, number=number)
    item = _item(version, key)
    here = reverse("readiness:answer", args=[slug, number, key])
    frozen = selectors.checklist_is_frozen(version)
    may_change = _may_change(actor, version)
    if request.method == "POST" and not may_change:
        messages.error(request, f"You may not answer the checklist of {version}.")
        return redirect(here)
    if request.method == "POST" and frozen:
        messages.error(
            request, f"{version} is {version.get_stage_display().lower()}: its checklist is frozen."
        )
        return redirect(here)
    current = (
        ChecklistAnswer.objects.filter(version=version, item=item)
        .select_related("answered_by")
        .first()
    )
    artifacts = _artifacts(version)
    form: AnswerForm | None = None
    if may_change and not frozen:
        initial = (
            {
                "answer": current.answer,
                "evidence_text": current.evidence_text,
                "evidence_url": current.evidence_url,
                "evidence_artifact": current.evidence_artifact_id,
                "note": current.note,
            }
            if current
            else {}
        )
        form = AnswerForm(
            request.POST if request.method == "POST" else None,
            request.FILES or None,
            artifacts=artifacts,
            initial=initial,
        )
    if request.method == "POST" and form is not None and form.is_valid():
        data = form.cleaned_data
        fields = {
            "answer": data["answer"],
            "evidence_text": data["evidence_text"],
            "evidence_url": data["evidence_url"],
            "note": data["note"],
        }
        try:
            if data["evidence_file"]:
                recorded = services.answer_record_with_upload(
                    version=version,
                    actor=actor,
                    item=item.key,
                    upload=data["evidence_file"],
                    **fields,
                )
            else:
                recorded = services.answer_record(
                    version=version,
                    actor=actor,
                    item=item.key,
                    evidence_artifact=data["evidence_artifact"],
                    **fields,
                )
        except PermissionDenied as exc:
            messages.error(request, str(exc))
            return redirect(here)
        except (ValidationError, ConflictError) as exc:
            show_service_error(form, exc, rename=dict.fromkeys(FILE_ERROR_KEYS, "evidence_file"))
        else:
            evidence = recorded.evidence_artifact
            text = f"Answer to {item.key} recorded: {recorded.get_answer_display().lower()}."
            if data["evidence_file"] and evidence is not None:
                text += f" Evidence file {evidence.name} stored, sha256 {evidence.sha256}."
            messages.success(request, text)
            return redirect(here)
    history = Paginator(selectors.answer_history(answer=current), HISTORY_PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    context = {
        "version": version,
        "model": version.model,
        "item": item,
        "current": current,
        "current_artifact": artifacts.get(current.evidence_artifact_id or 0) if current else None,
        "artifacts": artifacts,
        "form": form,
        "frozen": frozen,
        "may_change": may_change,
        "required": item.is_required_for(version.model.risk_tier),
        "page_obj": history,
        "history": [_history_row(event, artifacts) for event in history],
    }
    return render(request, "readiness/answer.html", context)


def _history_row(event: Any, artifacts: dict[int, Artifact]) -> dict[str, Any]:
    after = event.after or {}
    artifact_id = after.get("evidence_artifact")
    return {
        "event": event,
        "changed": event.action.endswith(".changed"),
        "answer": dict(AnswerChoice.choices).get(after.get("answer", ""), after.get("answer", "")),
        "evidence_text": after.get("evidence_text", ""),
        "evidence_url": after.get("evidence_url", ""),
        "artifact_id": artifact_id,
        "artifact": artifacts.get(artifact_id) if isinstance(artifact_id, int) else None,
        "note": after.get("note", ""),
        "previous": dict(AnswerChoice.choices).get(
            (event.before or {}).get("answer", ""), (event.before or {}).get("answer", "")
        ),
    }
