"""The two trainers a run can use.

- `steward_refit`: for scikit-learn models registered with their training data. The stored
  model artifact is read only if Steward computed its digest on upload and the bytes still
  hash to it, and only for a version that went through approval (the demo's traffic reads
  model files the same way, with joblib); the clone is fitted on the original training data
  plus the labelled production rows of the window and registered as a new version.
- `trainer_call`: the team's trainer gets a signed webhook (through `governance.outbound`)
  with the training window and the datasets to use; it answers through the callback API.
"""

from __future__ import annotations

import hashlib
import io
from typing import Any

import joblib
import pandas as pd
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.urls import reverse

from governance import audit
from governance.outbound import sender
from governance.retraining import refit
from governance.retraining.choices import RunState
from governance.retraining.models import RetrainingPolicy, RetrainingRun, TrainerDelivery
from governance.retraining.services import SYSTEM, result_record, trained_on
from monitoring.models import GroundTruth, PredictionEvent
from registry import services as registry
from registry.choices import ArtifactKind, DatasetKind, Environment, Stage, Task
from registry.models import Artifact, Dataset, Deployment, ModelVersion
from registry.profiling import read_table

EVENT = "steward.retraining.requested"
# The team's trainer is called like a lifecycle webhook: 5 s, 10 s, 20 s ... at most an hour.
POLICY = sender.Policy(max_attempts=8, base_s=5, cap_s=3600)
MAX_PRODUCTION_ROWS = 200_000


class NotTrainable(ValueError):
    """Steward cannot refit this version itself (the reason says why)."""


def _model_artifact(version: ModelVersion) -> Artifact:
    found = [a for a in version.artifacts.filter(kind=ArtifactKind.MODEL) if a.file]
    if len(found) != 1:
        raise NotTrainable(f"{version} needs exactly one stored model artifact, has {len(found)}")
    return found[0]


def load_estimator(version: ModelVersion) -> Any:
    """The version's fitted estimator, read only from a file Steward stored and hashed itself,
    of an approved version, after checking the bytes still hash to the recorded sha256."""
    if version.stage != Stage.APPROVED:
        raise NotTrainable(f"{version} is not approved; Steward loads only reviewed models")
    if "sklearn" not in version.framework.lower() and "scikit" not in version.framework.lower():
        raise NotTrainable(f"{version}'s framework is {version.framework or 'not given'!r}")
    artifact = _model_artifact(version)
    if artifact.digest_source != "computed":
        raise NotTrainable(f"the digest of {artifact.name} was not computed by Steward")
    with artifact.file.open("rb") as stored:
        data = stored.read()
    if hashlib.sha256(data).hexdigest() != artifact.sha256:
        raise NotTrainable(f"{artifact.name} no longer matches its recorded sha256")
    estimator = joblib.load(io.BytesIO(data))
    if not hasattr(estimator, "fit") or not hasattr(estimator, "predict"):
        raise NotTrainable(f"{artifact.name} does not hold a scikit-learn estimator")
    return estimator


def _table(dataset: Dataset) -> pd.DataFrame:
    if dataset.external or not dataset.file:
        raise NotTrainable(f"dataset {dataset.name} v{dataset.number} has no stored file")
    with dataset.file.open("rb") as stored:
        return read_table(stored, dataset.file_format)


def production_rows(run: RetrainingRun, *, features: list[str], task: str) -> pd.DataFrame:
    """The labelled production predictions of the run's window: their features and the
    observed outcome (label, or value for a regressor) in column "__target__"."""
    deployments = Deployment.objects.filter(
        version__model_id=run.model_id, environment=Environment.PRODUCTION
    )
    events = PredictionEvent.objects.filter(
        deployment__in=deployments,
        timestamp__gte=run.window_start,
        timestamp__lt=run.window_end,
        status="ok",
    )
    truth = GroundTruth.objects.filter(deployment__in=deployments)
    labelled = events.filter(request_id__in=truth.values("request_id")).order_by("timestamp")
    rows = list(
        labelled.values_list("deployment_id", "request_id", "features")[:MAX_PRODUCTION_ROWS]
    )
    outcome = "value" if task == Task.REGRESSION else "label"
    known = {
        (d, r): v
        for d, r, v in truth.filter(request_id__in=[r for _, r, _ in rows]).values_list(
            "deployment_id", "request_id", outcome
        )
    }
    records = [
        {**{f: features_of.get(f) for f in features}, "__target__": known.get((d, r))}
        for d, r, features_of in rows
    ]
    return pd.DataFrame.from_records(records, columns=[*features, "__target__"])


def steward_refit(run: RetrainingRun) -> RetrainingRun:
    """Refit the base version's estimator and register the result (see the module's text).
    Fitting happens before the transaction that writes; a retried job finds the version it
    registered under the run's client key and does not make a second one."""
    base = run.base_version
    if base is None:
        raise NotTrainable("the run has no version to retrain")
    model = run.model
    if not model.target_column:
        raise NotTrainable(f"{model} names no target column")
    originals = trained_on(base)
    if not originals:
        raise NotTrainable(f"{base} has no training dataset in its lineage")
    original = _table(originals[0])
    validation = trained_on(base, "validated_with")
    holdout = _table(validation[0]) if validation else None
    features = [f["name"] for f in base.input_schema] or [
        c for c in original.columns if c != model.target_column
    ]
    target = model.target_column
    missing = [c for c in [*features, target] if c not in original.columns]
    if missing:
        raise NotTrainable(f"the training data lacks {', '.join(missing)}")
    estimator = load_estimator(base)
    raw = production_rows(run, features=features, task=model.task).rename(
        columns={"__target__": target}
    )
    production = refit.align(raw, original, features=features, target=target)
    result = refit.refit(
        estimator,
        original=original,
        production=production,
        holdout=holdout,
        features=features,
        target=target,
        task=model.task,
    )
    # The new version is linked to the hold-out its comparison used, and only that: the base's
    # other validation sets (its own scored predictions, say) say nothing about the refit.
    return _register(run, base, originals[0], validation[:1], result.training, result)


def _register(
    run: RetrainingRun,
    base: ModelVersion,
    original: Dataset,
    validation: list[Dataset],
    combined: pd.DataFrame,
    result: refit.Refit,
) -> RetrainingRun:
    actor = run.requested_by or run.model.owner
    model_bytes = io.BytesIO()
    joblib.dump(result.estimator, model_bytes)
    with transaction.atomic():
        key = f"retraining-run-{run.pk}"
        version = base.model.versions.filter(client_key=key).first()
        dataset: Dataset | None = None
        if version is None:
            dataset = registry.dataset_upload(
                model=run.model,
                actor=actor,
                upload=SimpleUploadedFile(
                    f"{original.name}-run-{run.pk}.csv",
                    combined.to_csv(index=False).encode(),
                    content_type="text/csv",
                ),
                name=original.name,
                kind=DatasetKind.TRAINING,
                description=(
                    f"Retraining run {run.pk}: {original.name} v{original.number} plus "
                    f"{result.comparison['rows']['production']} labelled production rows of "
                    f"{run.window_start:%Y-%m-%d} to {run.window_end:%Y-%m-%d}"
                ),
                derived_from=original,
            )
            version = registry.version_register(
                model=run.model,
                actor=actor,
                input_schema=base.input_schema,
                hyperparameters=base.hyperparameters,
                training_metrics=result.comparison["candidate"],
                code_repository=base.code_repository,
                code_commit=base.code_commit,
                framework=base.framework,
                description=(
                    f"Retrained by Steward from v{base.number} (run {run.pk}, "
                    f"{run.get_trigger_display().lower()})."
                ),
                training_datasets=[dataset.pk],
                validation_datasets=[d.pk for d in validation],
                client_key=key,
            )
            registry.artifact_upload(
                version=version,
                actor=actor,
                upload=SimpleUploadedFile(
                    "model.joblib", model_bytes.getvalue(), content_type="application/octet-stream"
                ),
                kind=ArtifactKind.MODEL,
                description=f"Refit of v{base.number}'s estimator (scikit-learn, joblib)",
            )
        else:
            found = trained_on(version)
            dataset = found[0] if found else None
        locked = RetrainingRun.objects.select_for_update().get(pk=run.pk)
        if locked.state != RunState.TRAINING:
            return locked
        return result_record(
            locked,
            version=version,
            dataset=dataset,
            comparison=result.comparison | {"reported_by": "steward"},
            actor=actor,
            now=None,
        )


def trainer_payload(run: RetrainingRun) -> dict[str, Any]:
    """What the team's trainer is told: the run, the window, the datasets and where to answer."""
    base = run.base_version
    datasets = []
    if base is not None:
        for relation in ("trained_on", "validated_with"):
            for d in trained_on(base, relation):
                datasets.append(
                    {
                        "id": d.pk,
                        "name": d.name,
                        "number": d.number,
                        "use": relation,
                        "sha256": d.sha256 or d.external_digest,
                        "download": settings.STEWARD_BASE_URL
                        + reverse("api:dataset-download", kwargs={"pk": d.pk}),
                    }
                )
    production = Deployment.objects.filter(
        version__model_id=run.model_id, environment=Environment.PRODUCTION
    ).values_list("pk", flat=True)
    return {
        "event": EVENT,
        "run": run.pk,
        "model": {"slug": run.model.slug, "name": run.model.name, "task": run.model.task},
        "target_column": run.model.target_column,
        "base_version": {"id": base.pk, "number": base.number} if base else None,
        "trigger": run.trigger,
        "reason": run.reason,
        "window": {
            "start": run.window_start.isoformat() if run.window_start else None,
            "end": run.window_end.isoformat() if run.window_end else None,
        },
        "datasets": datasets,
        "production_deployments": sorted(production),
        "callback": settings.STEWARD_BASE_URL
        + reverse("api:retraining-run-result", kwargs={"pk": run.pk}),
    }


def trainer_call(run: RetrainingRun) -> str:
    """Send (or send again, when due) the signed call of the team's trainer; the delivery's
    state afterwards (pending: not reached yet, a retry is due later)."""
    policy = RetrainingPolicy.objects.get(model_id=run.model_id)
    delivery = run.deliveries.order_by("pk").first()
    if delivery is None:
        with transaction.atomic():
            delivery = TrainerDelivery.objects.create(run=run, payload=trainer_payload(run))
            audit.record(
                actor=SYSTEM,
                action="governance.retraining.trainer.called",
                target=run,
                after={"url": policy.trainer_url, "delivery": delivery.pk},
            )
    if delivery.state in (TrainerDelivery.State.DELIVERED, TrainerDelivery.State.FAILED):
        return delivery.state
    sender.deliver(
        delivery, url=policy.trainer_url, secret=policy.trainer_secret, event=EVENT, policy=POLICY
    )
    delivery.refresh_from_db()
    return delivery.state
