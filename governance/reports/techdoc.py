"""Technical documentation of a model version in the structure of the EU AI Act's Annex IV
(sections 1 to 9), as a JSON-ready document.

Every statement filled from Steward's data names its source: the object it was read from
(`"<app>.<model>:<id>"`) and the latest audit entry about that object (its `seq`, or None
when the object is not audited, e.g. a setting). What Steward cannot know is listed as a gap
for the provider to fill, never guessed. The same document is rendered as the signed PDF
(`templates/reports/techdoc.html`) and attached to it; its JSON Schema is
`governance/reports/schemas/technical-documentation.schema.json`.

Callers pass a version they reached through `restrict(user, "view")` (or a system job).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db.models import Model, Q

from governance.approvals.models import ApprovalRequest
from governance.audit.models import AuditEvent
from governance.lineage.models import LineageEdge, NodeKind
from governance.modelcards.selectors import latest_revision, model_card_for
from governance.readiness import crosswalk
from governance.readiness.selectors import readiness
from governance.reports.choices import ReportKind
from monitoring.models import AlertRule, DriftResult, MonitoringSettings
from registry.models import Dataset, Deployment, ModelVersion

FORMAT = "steward-technical-documentation/1"
SCHEMA_PATH = Path(__file__).resolve().parent / "schemas" / "technical-documentation.schema.json"
ATTACHMENT_NAME = "technical-documentation.json"

SECTION_TITLES: tuple[str, ...] = (
    "General description of the AI system",
    "Detailed description of the elements of the AI system and of the process for its development",
    "Monitoring, functioning and control of the AI system",
    "Appropriateness of the performance metrics",
    "Risk management system",
    "Changes made to the system through its lifecycle",
    "Harmonised standards and other specifications applied",
    "EU declaration of conformity",
    "Post-market monitoring plan",
)


def schema() -> dict[str, Any]:
    return json.loads(SCHEMA_PATH.read_text())


def ref(obj: Model) -> str:
    """How a statement names the object it was read from: `<app label>.<model>:<pk>`."""
    return f"{obj._meta.app_label}.{obj._meta.model_name}:{obj.pk}"


class AuditIndex:
    """The latest audit entry about each object a document cites, read in one query."""

    def __init__(self, objects: Iterable[Model]) -> None:
        keys = {(f"{o._meta.app_label}.{o._meta.model_name}", str(o.pk)) for o in objects}
        by_type: dict[str, list[str]] = {}
        for target_type, target_id in keys:
            by_type.setdefault(target_type, []).append(target_id)
        q = Q(pk__in=[])
        for target_type, ids in by_type.items():
            q |= Q(target_type=target_type, target_id__in=ids)
        self.latest: dict[tuple[str, str], int] = {}
        rows = AuditEvent.objects.filter(q).values_list("target_type", "target_id", "seq")
        for target_type, target_id, seq in rows:
            key = (target_type, target_id)
            self.latest[key] = max(seq, self.latest.get(key, 0))

    def entry(self, obj: Model) -> int | None:
        return self.latest.get((f"{obj._meta.app_label}.{obj._meta.model_name}", str(obj.pk)))


@dataclass
class Section:
    number: int
    key: str
    statements: list[dict[str, Any]] = field(default_factory=list)
    gaps: list[dict[str, str]] = field(default_factory=list)

    @property
    def title(self) -> str:
        return SECTION_TITLES[self.number - 1]

    def as_dict(self) -> dict[str, Any]:
        return {
            "number": self.number,
            "key": self.key,
            "title": self.title,
            "statements": self.statements,
            "gaps": self.gaps,
        }


class Builder:
    """Collects statements (each with its source) and gaps, section by section."""

    def __init__(self, audit: AuditIndex) -> None:
        self.audit = audit
        self.sections: list[Section] = []

    def section(self, number: int, key: str) -> Section:
        self.sections.append(Section(number=number, key=key))
        return self.sections[-1]

    def state(self, label: str, value: Any, obj: Model | None, *, point: str = "") -> None:
        """A statement read from `obj` (None: from Steward's configuration)."""
        source: dict[str, Any] = (
            {"object": ref(obj), "audit_entry": self.audit.entry(obj)}
            if obj is not None
            else {"object": "steward.settings", "audit_entry": None}
        )
        self.sections[-1].statements.append(
            {"point": point, "label": label, "value": _text(value), "source": source}
        )

    def gap(self, point: str, text: str) -> None:
        self.sections[-1].gaps.append({"point": point, "text": text})


def _text(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, dict | list):
        return json.dumps(value, sort_keys=True, default=str)
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    return str(value)


def _card_facts(version: ModelVersion) -> tuple[list[tuple[str, str, Model]], list[str]]:
    """What Steward knows today of the facts a model card holds, as (label, value, source)
    statements, and the card's fields it cannot fill as gaps."""
    model = version.model
    facts: list[tuple[str, str, Model]] = [
        ("Model", f"{model.name} ({model.slug})", model),
        ("Version", f"v{version.number}, {version.get_stage_display()}", version),
        ("Risk tier", model.get_risk_tier_display(), model),
        ("Task", model.get_task_display(), model),
        ("Owner", model.owner.get_username(), model),
    ]
    if model.team:
        facts.append(("Team", model.team, model))
    if version.description:
        facts.append(("Description of the version", version.description, version))
    if model.description:
        facts.append(("Description of the model", model.description, model))
    # The model card's written sections (its latest revision, else what Steward pre-fills);
    # a section nobody has written is a gap.
    revision = latest_revision(version)
    card_source: Model = revision if revision is not None else model
    gaps = ["Instructions for use for the deployer."]
    for section in model_card_for(version)["sections"]:
        if section["type"] != "text":
            continue
        if section["source"]["kind"] == "gap":
            gaps.append(f"Model card, {section['title']}: not written yet.")
        else:
            facts.append((f"Model card: {section['title']}", section["content"], card_source))
    if model.intended_use:
        facts.append(("Intended use", model.intended_use, model))
    else:
        gaps.insert(0, "The intended purpose of the system (the model has no intended use yet).")
    return facts, gaps


def _datasets(version: ModelVersion) -> list[tuple[Dataset, str]]:
    edges = LineageEdge.objects.filter(
        downstream_kind=NodeKind.VERSION, downstream_id=version.pk, upstream_kind=NodeKind.DATASET
    )
    relation_of = {e.upstream_id: e.get_relation_display() for e in edges}
    return [
        (d, relation_of[d.pk])
        for d in Dataset.objects.filter(pk__in=relation_of).order_by("name", "number")
    ]


def _rules(version: ModelVersion, deployments: list[Deployment]) -> list[AlertRule]:
    return list(
        AlertRule.objects.filter(
            Q(model_id=version.model_id) | Q(deployment__in=[d.pk for d in deployments])
        ).order_by("pk")
    )


def drift_at(deployments: list[Deployment], until: dt.datetime | None) -> list[DriftResult]:
    """Per feature, the latest drift verdict of the version's deployments up to `until`."""
    rows = DriftResult.objects.filter(deployment__in=[d.pk for d in deployments])
    if until is not None:
        rows = rows.filter(window_end__lte=until)
    latest: dict[str, DriftResult] = {}
    for row in rows.order_by("window_end", "pk"):
        latest[row.feature] = row
    return [latest[f] for f in sorted(latest)]


def document(
    version: ModelVersion, *, generated_by: str, when: dt.datetime, chain: dict[str, Any]
) -> dict[str, Any]:
    """The technical documentation of `version` (JSON-ready; see the module's docstring)."""
    model = version.model
    deployments = list(version.deployments.order_by("deployed_at", "pk"))
    datasets = _datasets(version)
    requests = list(
        ApprovalRequest.objects.filter(version=version)
        .select_related("requested_by")
        .prefetch_related("decisions__reviewer")
        .order_by("requested_at", "pk")
    )
    state = readiness(version)
    rules = _rules(version, deployments)
    monitoring = {
        s.deployment_id: s
        for s in MonitoringSettings.objects.filter(deployment__in=[d.pk for d in deployments])
    }
    test_logs = list(
        version.report_exports.filter(kind=ReportKind.TEST_LOG).order_by("generated_at")
    )
    cover = crosswalk.coverage(version)
    cited: list[Model] = [
        model,
        version,
        *deployments,
        *(d for d, _ in datasets),
        *requests,
        *state.answers,
        *rules,
        *monitoring.values(),
        *test_logs,
        *version.artifacts.all(),
        *([card] if (card := latest_revision(version)) is not None else []),
    ]
    b = Builder(AuditIndex(cited))

    # 1 General description
    b.section(1, "general-description")
    facts, card_gaps = _card_facts(version)
    for label, value, source in facts:
        b.state(label, value, source, point="1(a)")
    b.state("Registered", f"{version.created_at:%Y-%m-%d} by {version.created_by}", version)
    if version.framework:
        b.state("Software framework", version.framework, version, point="1(c)")
    else:
        b.gap("1(c)", "The versions of the software the system depends on.")
    for d in deployments:
        b.state(
            f"Deployment #{d.pk}",
            f"{d.get_environment_display()} at {d.endpoint}, {d.get_status_display()}",
            d,
            point="1(d)",
        )
    if not deployments:
        b.gap("1(d)", "The forms in which the system is placed on the market or put into service.")
    for text in card_gaps:
        b.gap("1(a)", text)
    b.gap("1(b)", "How the system interacts with hardware or software that is not part of it.")
    b.gap("1(e)", "The hardware on which the system is intended to run.")
    b.gap("1(g)", "The user interface provided to the deployer.")

    # 2 Development process and data
    b.section(2, "development")
    if version.code_repository or version.code_commit:
        b.state(
            "Code",
            f"{version.code_repository or '(repository not recorded)'} at "
            f"{version.code_commit or '(commit not recorded)'}",
            version,
            point="2(a)",
        )
    else:
        b.gap("2(a)", "The code repository and commit the version was built from.")
    features = [f.get("name") for f in (version.input_schema or []) if isinstance(f, dict)]
    if features:
        b.state("Input features", ", ".join(str(f) for f in features), version, point="2(b)")
    if version.hyperparameters:
        b.state("Hyperparameters", version.hyperparameters, version, point="2(b)")
    for a in version.artifacts.all():
        b.state(f"Artifact {a.kind}:{a.name}", f"sha256 {a.sha256 or 'not recorded'}", a)
    for ds, relation in datasets:
        b.state(
            f"Dataset {ds.name} v{ds.number} ({relation})",
            f"{ds.row_count} rows, sha256 {ds.sha256}",
            ds,
            point="2(d)",
        )
    if not datasets:
        b.gap("2(d)", "The training, validation and test data sets and their provenance.")
    b.gap("2(c)", "The system architecture and the computational resources used.")
    b.gap("2(d)", "How the data were labelled and cleaned.")
    b.gap("2(f)", "Changes to the system and its performance determined in advance.")
    b.gap("2(h)", "The cybersecurity measures put in place.")
    for r in requests:
        decided = ", ".join(
            f"{x.reviewer.get_username()} {x.verdict} {x.created_at:%Y-%m-%d}"
            for x in r.decisions.all()
        )
        b.state(
            f"Approval request {r.pk} ({r.get_kind_display()})",
            f"{r.get_state_display()}; policy v{r.policy_version} "
            f"(min approvals {r.policy.get('min_approvals')}); decisions: {decided or 'none'}",
            r,
            point="2(e)",
        )
    for log in test_logs:
        name = (log.file.name or "").rsplit("/", 1)[-1]
        b.state("Signed test log", f"{name}, sha256 {log.sha256}", log, point="2(g)")
    if not test_logs:
        b.gap("2(g)", "Test logs and test reports dated and signed by the responsible persons.")

    # 3 Monitoring, functioning and control
    b.section(3, "functioning")
    metrics = {k: v for k, v in (version.training_metrics or {}).items() if not isinstance(v, dict)}
    for name in sorted(metrics):
        b.state(f"Validation metric {name}", metrics[name], version, point="3")
    if not metrics:
        b.gap("3", "The system's accuracy on the data it was validated on.")
    fairness = (version.training_metrics or {}).get("fairness")
    if fairness:
        b.state("Accuracy by group (fairness)", fairness, version, point="3")
    else:
        b.gap("3", "The degree of accuracy for the specific groups of persons the system affects.")
    b.state(
        "Human oversight",
        "Every version is approved through a request under the policy of its risk tier; "
        "production deployments need an approved production request.",
        model,
        point="3",
    )
    b.gap("3", "Foreseeable unintended outcomes and sources of risk to health, safety and rights.")

    # 4 Appropriateness of the performance metrics
    b.section(4, "metrics")
    chosen = {a.item.key: a for a in state.answers}
    for key in ("business.acceptance-criteria", "model.metrics-met", "business.baseline"):
        answer = chosen.get(key)
        if answer is not None:
            b.state(
                f"Checklist {key}",
                f"{answer.get_answer_display()}: {answer.evidence_text or answer.note or '—'}",
                answer,
                point="4",
            )
        else:
            b.gap("4", f"Checklist item {key} is not answered.")
    for dep_id, ms in monitoring.items():
        if ms.thresholds:
            b.state(f"Status thresholds of deployment #{dep_id}", ms.thresholds, ms, point="4")
    b.gap("4", "Why the chosen metrics are appropriate for the intended purpose.")

    # 5 Risk management (from the readiness checklist)
    b.section(5, "risk-management")
    if state.template is not None:
        b.state(
            "Readiness checklist",
            f"{state.template.title} v{state.template.version}: {state.overall.yes} settled "
            f"yes of {state.overall.applicable} applicable, {len(state.open_required)} "
            f"required item(s) open for risk tier {state.risk_tier}",
            version,
            point="5",
        )
    for answer in state.answers:
        b.state(
            f"{answer.item.key}",
            f"{answer.get_answer_display()} by {answer.answered_by} "
            f"{answer.answered_at:%Y-%m-%d}: {answer.evidence_text or answer.note or '—'}",
            answer,
            point="5",
        )
    for item in state.open_required:
        b.gap("5", f"Required checklist item {item.key} is not settled.")
    b.gap("5", "The risk management system as a whole (Article 9) beyond the checklist.")

    # 6 Lifecycle changes (from the audit log)
    b.section(6, "lifecycle")
    lifecycle = AuditEvent.objects.filter(
        Q(target_type="registry.modelversion", target_id=str(version.pk))
        | Q(target_type="registry.deployment", target_id__in=[str(d.pk) for d in deployments])
        | Q(target_type="approvals.approvalrequest", target_id__in=[str(r.pk) for r in requests])
    ).order_by("seq")
    for event in lifecycle[:200]:
        b.sections[-1].statements.append(
            {
                "point": "6",
                "label": event.action,
                "value": f"{event.created_at:%Y-%m-%d %H:%M} UTC by {event.actor_name}: "
                f"{event.target_repr}",
                "source": {
                    "object": f"{event.target_type}:{event.target_id}",
                    "audit_entry": event.seq,
                },
            }
        )
    b.gap("6", "Changes made outside Steward (in code, infrastructure or process).")

    # 7 Standards applied (the crosswalk)
    b.section(7, "standards")
    tpl = state.template or version
    for framework in (crosswalk.ISO_42001, crosswalk.NIST_AI_RMF):
        tally = cover.summary(framework)
        b.state(
            f"Controls of {framework} evidenced by the checklist",
            f"{tally['evidenced']} of {tally['controls']} evidenced, {tally['not_applicable']} "
            f"not applicable, {tally['open']} open (mapping of checklist template "
            f"v{cover.template_version})",
            tpl,
            point="7",
        )
    b.gap(
        "7",
        "The harmonised standards applied, in full or in part, and the other solutions "
        "adopted to meet the requirements.",
    )

    # 8 Declaration of conformity: the provider's
    b.section(8, "declaration")
    b.gap("8", "A copy of the EU declaration of conformity, signed by the provider.")

    # 9 Post-market monitoring plan
    b.section(9, "post-market-monitoring")
    for rule in rules:
        scope = f"deployment #{rule.deployment_id}" if rule.deployment_id else "every deployment"
        b.state(
            f"Alert rule {rule.pk} ({scope})",
            f"{rule.get_source_display()} {rule.name} {rule.get_comparator_display()} "
            f"{rule.threshold:g} over {rule.window_days} day(s), {rule.get_severity_display()}"
            f"{'' if rule.active else ' (inactive)'}",
            rule,
            point="9",
        )
    if not rules:
        b.gap("9", "No alert rule watches this version's deployments.")
    for dep_id, ms in monitoring.items():
        b.state(
            f"Monitoring settings of deployment #{dep_id}",
            f"drift methods {_text(ms.drift_methods or 'default')}; sensitive attribute "
            f"{ms.sensitive_attribute or 'none'}",
            ms,
            point="9",
        )
    for row in drift_at(deployments, None):
        b.sections[-1].statements.append(
            {
                "point": "9",
                "label": f"Latest drift of {row.feature}",
                "value": f"{row.method} {row.statistic:.4g} (threshold {row.threshold:g}), "
                f"{'drifted' if row.drifted else 'no drift'} in the window ending "
                f"{row.window_end:%Y-%m-%d}",
                "source": {"object": ref(row), "audit_entry": None},
            }
        )
    b.state(
        "Monitoring window",
        f"{settings.STEWARD_MONITORING_WINDOW_HOURS} hours (STEWARD_MONITORING_WINDOW_HOURS)",
        None,
        point="9",
    )
    b.state(
        "Retention",
        "Steward deletes no prediction event, rollup, alert or audit entry: logs are kept "
        "for the life of the installation",
        None,
        point="9",
    )
    b.gap("9", "The retention period the provider decides for the logs (Article 19).")
    b.gap("9", "The procedure for reporting serious incidents (Article 73).")

    sections = [s.as_dict() for s in b.sections]
    return {
        "format": FORMAT,
        "structure": "EU AI Act (Regulation (EU) 2024/1689) Annex IV",
        "model": {"slug": model.slug, "name": model.name, "id": model.pk},
        "version": {"number": version.number, "id": version.pk, "stage": version.stage},
        "generated_by": generated_by,
        "generated_at": when.isoformat(),
        "audit_chain_head": {"seq": chain["head_seq"], "sha256": chain["head_hash"]},
        "sections": sections,
        "crosswalk": cover.as_dict(),
        "gaps_total": sum(len(s["gaps"]) for s in sections),
    }
