"""The registry's write pages: create and edit a model, register a version, upload its
artifacts and datasets, link its lineage, archive it.

Thin, like the API: a view finds the object through `restrict(user, VIEW)` (anything else is a
404), parses the form, and calls the service that the API calls (which checks the right,
validates, writes and audits in one transaction). A visible object the user may not change
sends them back to its page with the reason (the permission matrix's "refused"); a service's
refusal is shown beside the field it names, and nothing is stored.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from governance.approvals.choices import RequestState
from governance.approvals.models import ApprovalRequest
from governance.lineage import Node
from governance.lineage.models import NodeKind, Relation
from governance.lineage.services import link_by_hand
from portal.registry_edit_forms import (
    NO_LINK,
    ArtifactLinkForm,
    ArtifactUploadForm,
    DatasetUploadForm,
    LineageForm,
    ModelCreateForm,
    ModelEditForm,
    VersionRegisterForm,
)
from registry import selectors, services
from registry.actors import acting_user
from registry.choices import Action, DeploymentStatus, Environment
from registry.errors import ConflictError
from registry.form_errors import show_service_error
from registry.models import ModelVersion, RegisteredModel
from registry.services.models import EDITABLE_FIELDS

# The global permission the API's model creation asks for (registry.services.model_create).
CREATE_MODEL = "registry.add_registeredmodel"

get_or_post = require_http_methods(["GET", "POST"])


def may_create_models(user: Any) -> bool:
    """Whether the "New model" button shows; model_create checks the same permission."""
    return bool(user.is_authenticated and user.has_perm(CREATE_MODEL))


def may_change(user: Any, model: RegisteredModel) -> bool:
    """Whether the edit links show and the form pages open; the services decide again."""
    return RegisteredModel.objects.restrict(user, Action.CHANGE).filter(pk=model.pk).exists()


def _visible_model(request: HttpRequest, slug: str) -> RegisteredModel:
    return get_object_or_404(RegisteredModel.objects.restrict(request.user, Action.VIEW), slug=slug)


def _visible_version(request: HttpRequest, slug: str, number: int) -> ModelVersion:
    return get_object_or_404(
        ModelVersion.objects.restrict(request.user, Action.VIEW).select_related("model"),
        model__slug=slug,
        number=number,
    )


def _posted(request: HttpRequest) -> tuple[Any, Any]:
    """A form's data and files: bound on POST (even an empty one), unbound on GET."""
    if request.method == "POST":
        return request.POST, request.FILES
    return None, None


def _refused(request: HttpRequest, text: str, to: str) -> HttpResponse:
    """Back to the object's page with the reason; upload.js gets the reason as a 403."""
    if _wants_json(request):
        return JsonResponse({"errors": {}, "non_field_errors": [text]}, status=403)
    messages.error(request, text)
    return redirect(to)


def _version_url(version: ModelVersion) -> str:
    return reverse("registry:version-detail", args=[version.model.slug, version.number])


def _renamed(exc: ValidationError, names: dict[str, str]) -> ValidationError:
    """The service's field names as the form's."""
    if not hasattr(exc, "error_dict"):
        return exc
    return ValidationError({names.get(k, k): v for k, v in exc.message_dict.items()})


# --- models ------------------------------------------------------------------------------------


@login_required
@get_or_post
def model_new(request: HttpRequest) -> HttpResponse:
    """Register a model; its creator owns it."""
    if not may_create_models(request.user):
        return _refused(
            request,
            "You may not register models: ask an administrator for the data-scientists role.",
            reverse("registry:model-list"),
        )
    form = ModelCreateForm(_posted(request)[0])
    if request.method == "POST" and form.is_valid():
        try:
            model = services.model_create(actor=acting_user(request), **form.cleaned_data)
        except (ValidationError, PermissionDenied) as exc:
            show_service_error(form, exc)
        else:
            messages.success(request, f"Model {model.name} registered. Register its first version.")
            return redirect("registry:model-detail", slug=model.slug)
    return render(request, "registry/edit/model_form.html", {"form": form, "model": None})


@login_required
@get_or_post
def model_edit(request: HttpRequest, slug: str) -> HttpResponse:
    """Change a model's description, team, target, risk tier (governed), use and tags."""
    model = _visible_model(request, slug)
    if not may_change(request.user, model):
        back = reverse("registry:model-detail", args=[slug])
        return _refused(request, f"You may not change {model.name}.", back)
    form = ModelEditForm(_posted(request)[0], initial=ModelEditForm.initial_for(model))
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        changes = {k: data[k] for k in EDITABLE_FIELDS if data[k] != getattr(model, k)}
        if not changes:
            messages.success(request, "Nothing changed.")
            return redirect("registry:model-detail", slug=slug)
        try:
            services.model_update(
                model=model, actor=acting_user(request), reason=data["reason"], **changes
            )
        except PermissionDenied as exc:
            # The change right was checked above: what is refused here is lowering the tier.
            form.add_error("risk_tier", str(exc))
        except ValidationError as exc:
            show_service_error(form, exc)
        else:
            messages.success(request, f"{model.name} updated.")
            return redirect("registry:model-detail", slug=slug)
    return render(request, "registry/edit/model_form.html", {"form": form, "model": model})


# --- versions ----------------------------------------------------------------------------------


@login_required
@get_or_post
def version_new(request: HttpRequest, slug: str) -> HttpResponse:
    """Register the model's next version (a draft)."""
    model = _visible_model(request, slug)
    if not may_change(request.user, model):
        return _refused(
            request,
            f"You may not register versions of {model.name}.",
            reverse("registry:model-detail", args=[slug]),
        )
    datasets = list(selectors.model_datasets(user=request.user, model=model))
    form = VersionRegisterForm(_posted(request)[0], datasets=datasets)
    if request.method == "POST" and form.is_valid():
        try:
            version = services.version_register(
                model=model, actor=acting_user(request), **form.cleaned_data
            )
        except (ValidationError, PermissionDenied) as exc:
            show_service_error(form, exc)
        else:
            messages.success(
                request, f"Registered {version} as a draft. Upload its model artifact next."
            )
            return redirect("registry:artifact-upload", slug=slug, number=version.number)
    return render(request, "registry/edit/version_form.html", {"form": form, "model": model})


def _wants_json(request: HttpRequest) -> bool:
    """upload.js asks for JSON; a plain form post (no JavaScript) gets pages."""
    return "application/json" in request.headers.get("Accept", "")


def _form_errors_json(form: forms.Form, status: int = 400) -> JsonResponse:
    return JsonResponse(
        {
            "errors": {k: [str(m) for m in v] for k, v in form.errors.items() if k != "__all__"},
            "non_field_errors": [str(m) for m in form.non_field_errors()],
        },
        status=status,
    )


Store = Callable[[ModelVersion, dict[str, Any]], tuple[dict[str, Any], str]]


def _version_write(
    request: HttpRequest, slug: str, number: int, *, what: str, form: forms.Form, store: Store
) -> HttpResponse:
    """The version's add pages: the visible version (else 404), the right to change its model
    (else back with the reason), then on a valid POST the service through `store`, which gives
    the JSON reply and the page's message; a refusal goes beside the field it names."""
    version = _visible_version(request, slug, number)
    if not may_change(request.user, version.model):
        return _refused(request, f"You may not add {what}s to {version}.", _version_url(version))
    if request.method == "POST" and form.is_valid():
        try:
            reply, message = store(version, form.cleaned_data)
        except (ValidationError, PermissionDenied, ConflictError) as exc:
            show_service_error(form, exc)
        else:
            reply["version_url"] = _version_url(version)
            if _wants_json(request):
                return JsonResponse(reply, status=201)
            messages.success(request, message)
            return redirect(reply["version_url"])
    if _wants_json(request) and request.method == "POST":
        return _form_errors_json(form)
    context = {
        "form": form,
        "version": version,
        "model": version.model,
        "what": what,
        "max_bytes": settings.STEWARD_MAX_UPLOAD_BYTES,
    }
    template = "artifact_link" if what == "linked artifact" else "upload_form"
    return render(request, f"registry/edit/{template}.html", context)


@login_required
@get_or_post
def artifact_upload(request: HttpRequest, slug: str, number: int) -> HttpResponse:
    """Upload a file to the version; the service computes its sha256."""

    def store(version: ModelVersion, data: dict[str, Any]) -> tuple[dict[str, Any], str]:
        artifact = services.artifact_upload(
            version=version,
            actor=acting_user(request),
            upload=data["file"],
            kind=data["kind"],
            name=data["name"],
            description=data["description"],
        )
        reply = {"name": artifact.name, "sha256": artifact.sha256, "size": artifact.size}
        return reply, f"Stored {artifact.name}: SHA-256 {artifact.sha256}."

    form = ArtifactUploadForm(*_posted(request), max_bytes=settings.STEWARD_MAX_UPLOAD_BYTES)
    return _version_write(request, slug, number, what="artifact", form=form, store=store)


@login_required
@get_or_post
def artifact_link(request: HttpRequest, slug: str, number: int) -> HttpResponse:
    """Record an artifact by URI (the same service as the API's link)."""

    def store(version: ModelVersion, data: dict[str, Any]) -> tuple[dict[str, Any], str]:
        artifact = services.artifact_link(
            version=version,
            actor=acting_user(request),
            uri=data["uri"],
            kind=data["kind"],
            name=data["name"],
            sha256=data["sha256"].strip().lower(),
            description=data["description"],
        )
        source = artifact.digest_source
        digest = f"SHA-256 {artifact.sha256}, {source}" if artifact.sha256 else "no SHA-256"
        reply = {"name": artifact.name, "uri": artifact.uri, "sha256": artifact.sha256}
        reply["digest_source"] = source
        return reply, f"Recorded {artifact.name} at {artifact.uri} ({digest})."

    form = ArtifactLinkForm(request.POST if request.method == "POST" else None)
    return _version_write(request, slug, number, what="linked artifact", form=form, store=store)


@login_required
@get_or_post
def dataset_upload(request: HttpRequest, slug: str, number: int) -> HttpResponse:
    """Upload a table to the version's model and link the version to it."""

    def store(version: ModelVersion, data: dict[str, Any]) -> tuple[dict[str, Any], str]:
        link_as = data["link_as"]
        dataset = services.dataset_upload(
            model=version.model,
            actor=acting_user(request),
            upload=data["file"],
            name=data["name"],
            kind=data["kind"],
            description=data["description"],
            declared_schema=data["schema"] or None,
            for_version=version if link_as != NO_LINK else None,
            link_as=link_as,
        )
        reply = {
            "name": str(dataset),
            "sha256": dataset.sha256,
            "size": dataset.size,
            "rows": dataset.row_count,
            "dataset_url": reverse("registry:dataset-detail", args=[dataset.pk]),
        }
        return reply, f"Stored {dataset}: SHA-256 {dataset.sha256}."

    form = DatasetUploadForm(*_posted(request), max_bytes=settings.STEWARD_MAX_UPLOAD_BYTES)
    return _version_write(request, slug, number, what="dataset", form=form, store=store)


@login_required
@get_or_post
def version_lineage(request: HttpRequest, slug: str, number: int) -> HttpResponse:
    """Record what this version was trained on, validated with or derived from."""
    version = _visible_version(request, slug, number)
    if not may_change(request.user, version.model):
        return _refused(request, f"You may not change {version}.", _version_url(version))
    datasets = list(selectors.model_datasets(user=request.user, model=version.model))
    others = [
        v
        for v in selectors.model_versions(user=request.user, model=version.model)
        if v.pk != version.pk
    ]
    form = LineageForm(_posted(request)[0], datasets=datasets, versions=others)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        if data["relation"] == Relation.DERIVED_FROM:
            upstream, field = Node(NodeKind.VERSION, data["source_version"]), "source_version"
            label = next(f"v{v.number}" for v in others if v.pk == upstream.id)
        else:
            upstream, field = Node(NodeKind.DATASET, data["dataset"]), "dataset"
            label = next(str(d) for d in datasets if d.pk == upstream.id)
        try:
            edge = link_by_hand(
                actor=acting_user(request),
                upstream=upstream,
                downstream=Node(NodeKind.VERSION, version.pk),
                relation=data["relation"],
            )
        except ValidationError as exc:
            show_service_error(form, _renamed(exc, {"upstream_id": field}))
        except (PermissionDenied, ConflictError) as exc:
            show_service_error(form, exc)
        else:
            relation = edge.get_relation_display()
            messages.success(request, f"Recorded: {version} {relation} {label}.")
            return redirect(_version_url(version))
    context = {"form": form, "version": version, "model": version.model}
    return render(request, "registry/edit/lineage_form.html", context)


@login_required
@get_or_post
def version_archive(request: HttpRequest, slug: str, number: int) -> HttpResponse:
    """GET states what archiving does to this version; POST archives it."""
    version = _visible_version(request, slug, number)
    if not may_change(request.user, version.model):
        return _refused(request, f"You may not archive {version}.", _version_url(version))
    form = forms.Form(_posted(request)[0])
    if request.method == "POST" and form.is_valid():
        try:
            services.version_archive(version=version, actor=acting_user(request))
        except (PermissionDenied, ConflictError) as exc:
            show_service_error(form, exc)
        else:
            messages.success(request, f"{version} is archived.")
            return redirect(_version_url(version))
    active = list(
        selectors.version_deployments(user=request.user, version=version).filter(
            status=DeploymentStatus.ACTIVE
        )
    )
    context = {
        "form": form,
        "version": version,
        "model": version.model,
        "serving_production": [d for d in active if d.environment == Environment.PRODUCTION],
        "serving_elsewhere": [d for d in active if d.environment != Environment.PRODUCTION],
        "open_requests": list(
            ApprovalRequest.objects.filter(version=version, state=RequestState.PENDING)
        ),
    }
    return render(request, "registry/edit/version_archive.html", context)
