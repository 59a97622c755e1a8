"""Reads that gather what a report says. Callers pass a version or deployment they reached
through `restrict(user, "view")` (or a system job); nothing here widens what anyone sees."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Q

from governance.approvals.models import ApprovalRequest
from governance.audit.checkpointing import latest_checkpoint
from governance.audit.models import AuditEvent
from governance.audit.verification import audit_report
from governance.lineage.models import LineageEdge, NodeKind
from governance.readiness.selectors import readiness
from governance.reports import charts
from monitoring.engines import health as health_engine
from monitoring.models import Alert, DailyPerformance, DriftResult, HourlyHealth
from registry.actors import Viewer
from registry.models import Dataset, Deployment, ModelVersion

AUDIT_TRAIL_LIMIT = 400
EXPORTED = "reports.exported"


@dataclass
class Subject:
    """What a report is about: a version, or a deployment over a period."""

    version: ModelVersion
    deployment: Deployment | None = None
    since: dt.datetime | None = None
    until: dt.datetime | None = None

    @property
    def kind(self) -> str:
        return "deployment" if self.deployment else "version"


@dataclass
class Evidence:
    """Every digest the report states, gathered into the manifest attached to the PDF."""

    entries: list[dict[str, Any]] = field(default_factory=list)

    def add(self, kind: str, ref: str, sha256: str, **extra: Any) -> None:
        if sha256:
            self.entries.append({"kind": kind, "ref": ref, "sha256": sha256, **extra})


def identity(version: ModelVersion) -> dict[str, Any]:
    model = version.model
    return {
        "model": model.name,
        "slug": model.slug,
        "version": version.number,
        "stage": version.get_stage_display(),
        "owner": model.owner.get_username(),
        "team": model.team,
        "risk_tier": model.get_risk_tier_display(),
        "task": model.get_task_display(),
        "intended_use": model.intended_use,
        "description": version.description,
        "framework": version.framework,
        "registered_at": version.created_at,
        "registered_by": version.created_by.get_username(),
    }


def lineage(version: ModelVersion, evidence: Evidence) -> dict[str, Any]:
    edges = LineageEdge.objects.filter(
        downstream_kind=NodeKind.VERSION, downstream_id=version.pk, upstream_kind=NodeKind.DATASET
    )
    relation_of = {e.upstream_id: e.get_relation_display() for e in edges}
    datasets = Dataset.objects.filter(pk__in=relation_of).order_by("name", "number")
    for d in datasets:
        evidence.add("dataset", f"{d.name} v{d.number}", d.sha256, relation=relation_of[d.pk])
    artifacts = list(version.artifacts.order_by("kind", "name"))
    for a in artifacts:
        evidence.add("artifact", f"{a.kind}:{a.name}", a.sha256, uri=a.uri)
    return {
        "datasets": [
            {"obj": d, "relation": relation_of[d.pk], "rows": d.row_count} for d in datasets
        ],
        "artifacts": artifacts,
        "code_repository": version.code_repository,
        "code_commit": version.code_commit,
    }


def training(version: ModelVersion) -> dict[str, Any]:
    importance = sorted(
        ((str(k), float(v)) for k, v in (version.feature_importance or {}).items()),
        key=lambda kv: -abs(kv[1]),
    )
    chart = (
        charts.data_uri(charts.bar_chart(importance[:30], title="Feature importance"))
        if importance
        else ""
    )
    metrics = version.training_metrics or {}
    return {
        "metrics": sorted((k, v) for k, v in metrics.items() if not isinstance(v, dict)),
        "fairness": {k: v for k, v in metrics.items() if k in FAIRNESS_METRICS or k == "fairness"},
        "importance": importance,
        "importance_svg": chart,
        "hyperparameters": sorted((version.hyperparameters or {}).items()),
    }


def checklist(version: ModelVersion) -> dict[str, Any]:
    state = readiness(version)
    return {
        "template": state.template,
        "overall": state.overall,
        "open_required": state.open_required,
        "answers": state.answers,
    }


def approvals(version: ModelVersion, evidence: Evidence) -> list[ApprovalRequest]:
    requests = list(
        ApprovalRequest.objects.filter(version=version)
        .select_related("requested_by", "deployment")
        .prefetch_related("decisions__reviewer")
        .order_by("requested_at", "id")
    )
    for r in requests:
        evidence.add("approval_request", f"request {r.pk} ({r.kind})", r.manifest_digest)
        for d in r.decisions.all():
            evidence.add(
                "approval_decision",
                f"request {r.pk}: {d.reviewer.get_username()} {d.verdict}",
                d.manifest_digest,
            )
    return requests


def _day_labels(since: dt.date, until: dt.date) -> list[dt.date]:
    return [since + dt.timedelta(days=i) for i in range((until - since).days + 1)]


HEADLINE_METRICS = ("accuracy", "roc_auc", "f1", "precision", "recall", "rmse", "mae", "r2")
FAIRNESS_METRICS = ("demographic_parity_difference", "disparate_impact_ratio")


def performance(subject: Subject) -> dict[str, Any]:
    """Daily performance over the period: charts of the headline metrics, a weekly table, and
    the fairness figures (weekly) with the sensitive attribute they were computed for."""
    assert subject.deployment is not None and subject.since and subject.until
    rows = list(
        DailyPerformance.objects.filter(
            deployment=subject.deployment,
            day__gte=subject.since.date(),
            day__lte=subject.until.date(),
        ).order_by("day")
    )
    present = {k for r in rows for k, v in r.metrics.items() if isinstance(v, int | float)}
    names = [n for n in HEADLINE_METRICS if n in present][:5]
    days = _day_labels(subject.since.date(), subject.until.date())
    by_day = {r.day: r for r in rows}
    svgs = []
    for name in names[:3]:
        points = [
            (d.isoformat(), by_day[d].metrics.get(name) if d in by_day else None) for d in days
        ]
        svgs.append(charts.data_uri(charts.line_chart(points, title=f"Daily {name}")))
    fair_names = [n for n in FAIRNESS_METRICS if n in present]
    attributes = sorted(
        {
            str(f["attribute"])
            for r in rows
            if (f := getattr(r, "fairness", None)) and "attribute" in f
        }
    )
    return {
        "weeks": weekly(rows, names),
        "metric_names": names,
        "svgs": svgs,
        "fairness_names": [n.replace("_", " ").capitalize() for n in fair_names],
        "fairness_weeks": weekly(rows, fair_names) if fair_names else [],
        "fairness_attributes": attributes,
    }


def drift(subject: Subject, evidence: Evidence) -> dict[str, Any]:
    """Per feature: the windows inside the period and the latest verdict, and one chart of
    every feature's statistic over the windows."""
    assert subject.deployment is not None
    rows = (
        DriftResult.objects.filter(
            deployment=subject.deployment,
            window_start__gte=subject.since,
            window_end__lte=subject.until,
        )
        .select_related("reference_dataset")
        .order_by("feature", "window_end")
    )
    by_feature: dict[str, list[DriftResult]] = {}
    for row in rows:
        by_feature.setdefault(row.feature, []).append(row)
    features: list[dict[str, Any]] = []
    for feature, results in by_feature.items():
        latest = results[-1]
        evidence.add(
            "drift",
            f"{feature} {latest.window_start:%Y-%m-%d}..{latest.window_end:%Y-%m-%d}",
            latest.current_digest,
            reference_sha256=latest.reference_sha256,
            reference_digest=latest.reference_digest,
            method=latest.method,
        )
        features.append(
            {
                "feature": feature,
                "latest": latest,
                "windows": len(results),
                "drifted_windows": sum(r.drifted for r in results),
                "values": [r.statistic for r in results],
            }
        )
    chart = charts.sparklines(
        [(f["feature"], f["values"], f["latest"].threshold) for f in features],
        title="Drift statistic per window (dashed: threshold)",
    )
    return {
        "features": features,
        "svg": charts.data_uri(chart) if features else "",
        "references": drift_references(rows),
    }


def drift_references(rows: Any) -> list[dict[str, Any]]:
    """The reference datasets the period's drift rows were computed against (usually one;
    more when an owner changed the version's reference during the period), oldest first."""
    seen: dict[str, dict[str, Any]] = {}
    for row in sorted(rows, key=lambda r: r.window_end):
        if row.reference_sha256 and row.reference_sha256 not in seen:
            seen[row.reference_sha256] = {
                "dataset": row.reference_dataset,
                "sha256": row.reference_sha256,
                "profile_digest": row.profile_digest,
            }
    return list(seen.values())


def weekly(rows: list[DailyPerformance], names: list[str]) -> list[dict[str, Any]]:
    """Daily performance folded into weeks (Monday first): counts add up, metrics are the
    days' means weighted by labelled rows."""
    weeks: dict[dt.date, list[DailyPerformance]] = {}
    for row in rows:
        weeks.setdefault(row.day - dt.timedelta(days=row.day.weekday()), []).append(row)
    out = []
    for start, days in sorted(weeks.items()):
        labelled = sum(d.labelled for d in days)
        means = {}
        for name in names:
            pairs = [
                (d.metrics[name], d.labelled)
                for d in days
                if isinstance(d.metrics.get(name), int | float)
            ]
            weight = sum(w for _, w in pairs)
            means[name] = sum(v * w for v, w in pairs) / weight if weight else None
        out.append(
            {
                "week": start,
                "days": len(days),
                "predictions": sum(d.predictions for d in days),
                "labelled": labelled,
                "metrics": [means[n] for n in names],
            }
        )
    return out


def health(subject: Subject) -> dict[str, Any]:
    """Daily service health over the period from the hourly rows."""
    assert subject.deployment is not None
    rows = HourlyHealth.objects.filter(
        deployment=subject.deployment, hour__gte=subject.since, hour__lte=subject.until
    ).values(*health_engine.HOURLY_FIELDS)
    table: list[dict[str, Any]] = [
        {
            "day": day,
            "count": rollup.requests,
            "error_rate": rollup.error_rate,
            "p95": rollup.latency_p95_ms,
        }
        for day, rollup in health_engine.daily_health(rows).items()
    ]
    assert subject.since is not None and subject.until is not None
    labels = _day_labels(subject.since.date(), subject.until.date())
    by_day = {row["day"]: row for row in table}

    def series(key: str) -> list[tuple[str, float | None]]:
        return [(d.isoformat(), by_day[d][key] if d in by_day else None) for d in labels]

    return {
        "days": table,
        "requests": sum(r["count"] for r in table),
        "svgs": [
            charts.data_uri(charts.line_chart(series("count"), title="Requests per day")),
            charts.data_uri(charts.line_chart(series("error_rate"), title="Error rate per day")),
            charts.data_uri(
                charts.line_chart(series("p95"), title="Latency p95 (ms), request-weighted")
            ),
        ],
    }


def alerts(subject: Subject) -> list[Alert]:
    assert subject.deployment is not None
    return list(
        Alert.objects.filter(
            deployment=subject.deployment,
            opened_at__gte=subject.since,
            opened_at__lte=subject.until,
        )
        .select_related("rule", "acknowledged_by", "resolved_by")
        .order_by("opened_at")
    )


def audit_trail(subject: Subject) -> tuple[list[AuditEvent], int]:
    """Entries about the subject (its model, version, artifacts, approval requests, readiness
    answers and deployments), oldest first, with how many there are in all."""
    version = subject.version
    deployments = (
        [subject.deployment.pk]
        if subject.deployment
        else list(version.deployments.values_list("pk", flat=True))
    )
    q = (
        Q(target_type="registry.registeredmodel", target_id=str(version.model_id))
        | Q(target_type="registry.modelversion", target_id=str(version.pk))
        | Q(
            target_type="registry.artifact",
            target_id__in=[str(pk) for pk in version.artifacts.values_list("pk", flat=True)],
        )
        | Q(target_type="registry.deployment", target_id__in=[str(pk) for pk in deployments])
        | Q(
            target_type="approvals.approvalrequest",
            target_id__in=[
                str(pk) for pk in version.approval_requests.values_list("pk", flat=True)
            ],
        )
        | Q(
            target_type="readiness.checklistanswer",
            target_id__in=[
                str(pk) for pk in version.checklist_answers.values_list("pk", flat=True)
            ],
        )
    )
    events = AuditEvent.objects.filter(q).order_by("seq")
    total = events.count()
    return list(events[:AUDIT_TRAIL_LIMIT]), total


def chain_state(evidence: Evidence) -> dict[str, Any]:
    """The audit chain at export time: its head, its latest signed checkpoint, and the verdict
    of walking it against the head and every checkpoint."""
    report = audit_report()
    verdict = report.verdict
    cp = latest_checkpoint()
    evidence.add("audit_chain_head", f"entry {verdict.count}", verdict.head_hash)
    if cp:
        evidence.add("audit_checkpoint", f"entry {cp.seq}", cp.head_hash, key_id=cp.key_id)
    return {
        "head_seq": verdict.count,
        "head_hash": verdict.head_hash,
        "verdict": verdict,
        "checkpoint": cp,
        "checkpoints": report.checkpoints,
        "notes": report.notes,
    }


def issued_event(sha256: str) -> AuditEvent | None:
    """The audit entry that records Steward issuing a file with this digest, if any."""
    return AuditEvent.objects.filter(action=EXPORTED, after__sha256=sha256).order_by("seq").first()


def export_choices(*, user: Viewer, limit: int = 200) -> dict[str, Any]:
    """What the reports page offers: the versions and deployments the user may view, the
    reports of those models issued most recently, and their monthly schedules."""
    from governance.reports.models import ReportExport, ReportSchedule

    return {
        "versions": list(
            ModelVersion.objects.restrict(user, "view")
            .select_related("model")
            .order_by("model__name", "-number")[:limit]
        ),
        "deployments": list(
            Deployment.objects.restrict(user, "view")
            .select_related("version__model")
            .order_by("-deployed_at")[:limit]
        ),
        "exports": list(
            ReportExport.objects.restrict(user, "view").select_related("version__model")[:20]
        ),
        "schedules": list(
            ReportSchedule.objects.restrict(user, "view").select_related(
                "deployment__version__model"
            )[:limit]
        ),
    }
