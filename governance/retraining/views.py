"""Retraining pages: the model's policy and runs (owners edit the policy, ask for a run) and
one run with its comparison."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from governance.retraining import policies, selectors, services
from governance.retraining.errors import RetrainingRefused
from governance.retraining.forms import PolicyForm
from governance.retraining.models import RetrainingPolicy, RetrainingRun
from registry.actors import acting_user
from registry.choices import Action
from registry.models import RegisteredModel


def _may_change(user: object, model: RegisteredModel) -> bool:
    return RegisteredModel.objects.restrict(user, Action.CHANGE).filter(pk=model.pk).exists()  # type: ignore[arg-type]


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def model_retraining(request: HttpRequest, slug: str) -> HttpResponse:
    """The policy (a form for whoever may change the model) and the runs, paginated."""
    user = acting_user(request)
    model = get_object_or_404(RegisteredModel.objects.restrict(user, Action.VIEW), slug=slug)
    policy = policies.policy_get(model=model) or RetrainingPolicy(model=model)
    may_change = _may_change(user, model)
    form = PolicyForm(instance=policy)
    if request.method == "POST":
        form = PolicyForm(request.POST, instance=policy)
        if not may_change:
            messages.error(request, "You may not change this model's retraining policy.")
            return redirect("governance:retraining", slug=slug)
        if form.is_valid():
            changes = {name: form.cleaned_data[name] for name in PolicyForm.Meta.fields}
            try:
                policies.policy_update(model=model, actor=user, **changes)
            except ValidationError as exc:
                for field, errors in exc.message_dict.items():
                    form.add_error(field if field in form.fields else None, errors)
            else:
                messages.success(request, "Retraining policy saved.")
                return redirect("governance:retraining", slug=slug)
    page = Paginator(selectors.run_list(model=model), 20).get_page(request.GET.get("page"))
    context = {
        "model": model,
        "form": form,
        "policy": policy if policy.pk else None,
        "may_change": may_change,
        "page_obj": page,
        "summary": selectors.model_summary(model=model),
    }
    return render(request, "retraining/model_retraining.html", context)


@login_required
@require_POST
def retraining_request(request: HttpRequest, slug: str) -> HttpResponse:
    """Ask for a retraining now; the policy's bounds may defer it."""
    user = acting_user(request)
    model = get_object_or_404(RegisteredModel.objects.restrict(user, Action.VIEW), slug=slug)
    try:
        run = services.run_request(model=model, actor=user, reason=request.POST.get("reason", ""))
    except (PermissionDenied, RetrainingRefused) as exc:
        messages.error(request, str(exc) or "You may not ask for a retraining of this model.")
        return redirect("governance:retraining", slug=slug)
    if run.state == "deferred":
        until = f"{run.deferred_until:%Y-%m-%d %H:%M} UTC"
        messages.success(request, f"Recorded; the policy defers run {run.pk} until {until}.")
    else:
        messages.success(request, f"Retraining run {run.pk}: {run.get_state_display().lower()}.")
    return redirect("governance:retraining-run", pk=run.pk)


@login_required
@require_safe
def run_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = acting_user(request)
    run = get_object_or_404(
        RetrainingRun.objects.restrict(user, Action.VIEW).select_related(
            "model", "base_version", "result_version", "training_dataset", "approval_request"
        ),
        pk=pk,
    )
    context = {
        "run": run,
        "model": run.model,
        "rows": selectors.comparison_rows(run),
        "deliveries": list(run.deliveries.all()[:10]),
    }
    return render(request, "retraining/run_detail.html", context)
