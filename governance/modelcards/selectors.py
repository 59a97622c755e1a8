"""Reads of model cards and of the model-risk inventory, each statement with its source.

`model_card_for(version)` and `inventory_fields_for(model)` are what other parts of Steward
(the technical documentation export among them) read: plain dicts, JSON-ready. They do not
check permissions: callers pass objects they have already restricted to the viewer.
"""

from __future__ import annotations

import logging
from typing import Any

import pandas as pd

from governance.audit.models import AuditEvent
from governance.lineage.models import LineageEdge, NodeKind, Relation
from governance.modelcards import quantitative, sections
from governance.modelcards.models import ModelCardRevision
from monitoring.models import MonitoringSettings
from registry.choices import Stage
from registry.models import Dataset, ModelVersion, RegisteredModel
from registry.profiling import read_table

log = logging.getLogger(__name__)

# Registry fields a text section is pre-filled from when the card has no revision yet.
PREFILL = {"intended_use": "intended_use", "out_of_scope": "restrictions"}


def latest_revision(version: ModelVersion) -> ModelCardRevision | None:
    return (
        ModelCardRevision.objects.filter(version=version)
        .select_related("edited_by")
        .order_by("-number")
        .first()
    )


def card_revisions(version: ModelVersion) -> list[ModelCardRevision]:
    """Every revision of the version's card, newest first."""
    return list(
        ModelCardRevision.objects.filter(version=version)
        .select_related("edited_by")
        .order_by("-number")
    )


def _datasets(version: ModelVersion, relation: str) -> list[dict[str, Any]]:
    edges = list(
        LineageEdge.objects.filter(
            downstream_kind=NodeKind.VERSION,
            downstream_id=version.pk,
            upstream_kind=NodeKind.DATASET,
            relation=relation,
        ).order_by("pk")
    )
    found = Dataset.objects.in_bulk([edge.upstream_id for edge in edges])
    rows = []
    for edge in edges:
        dataset = found.get(edge.upstream_id)
        if dataset is None:
            continue
        rows.append(
            {
                "dataset_id": dataset.pk,
                "name": dataset.name,
                "number": dataset.number,
                "kind": dataset.kind,
                "sha256": dataset.sha256 or dataset.external_digest,
                "rows": dataset.row_count,
                "external": dataset.external,
                "source": {"object": f"registry.dataset:{dataset.pk}", "lineage_edge": edge.pk},
            }
        )
    return rows


def _fairness_setting(version: ModelVersion) -> tuple[str, str]:
    """(sensitive attribute, positive label) from the monitoring settings of the version's
    deployments (production first), or ("", "1")."""
    settings_rows = MonitoringSettings.objects.filter(deployment__version=version).order_by(
        "-deployment__environment", "deployment__pk"
    )
    chosen = settings_rows.exclude(sensitive_attribute="").first() or settings_rows.first()
    if chosen is None:
        return "", "1"
    return chosen.sensitive_attribute, chosen.positive_label


def _positive(frame: pd.DataFrame, column: str, label: str) -> Any:
    """The positive label in the column's own type ("1" is 1 in a column of integers)."""
    if pd.api.types.is_numeric_dtype(frame[column]):
        try:
            return type(frame[column].iloc[0].item())(label)
        except (ValueError, IndexError):
            return label
    return label


def quantitative_analysis(
    version: ModelVersion, evaluation: list[dict[str, Any]], *, sensitive_attribute: str = ""
) -> dict[str, Any]:
    """Metrics with confidence intervals from the first validation dataset holding the target
    column and a "prediction" column; otherwise why none could be computed (a gap). Fairness
    groups come from `sensitive_attribute`, else the one set in the monitoring settings of
    the version's deployments."""
    model = version.model
    if not model.target_column:
        return {"status": "gap", "reason": "the model names no target column"}
    sensitive, label = _fairness_setting(version)
    sensitive = sensitive_attribute or sensitive
    for row in evaluation:
        dataset = Dataset.objects.get(pk=row["dataset_id"])
        if dataset.external or not dataset.file:
            continue
        try:
            with dataset.file.open("rb") as stream:
                frame = read_table(stream, dataset.file_format)
        except (OSError, ValueError):
            log.warning("model card: cannot read dataset %s", dataset.pk, exc_info=True)
            continue
        if model.target_column not in frame.columns or "prediction" not in frame.columns:
            continue
        try:
            result = quantitative.analyse(
                frame,
                task=model.task,
                target=model.target_column,
                sensitive_attribute=sensitive,
                positive=_positive(frame, "prediction", label),
            )
        except ValueError as error:
            return {"status": "gap", "reason": str(error), "source": row["source"]}
        return {"status": "computed", "source": row["source"] | {"sha256": row["sha256"]}} | result
    return {
        "status": "gap",
        "reason": (
            "no validation dataset linked to this version holds both the target column "
            f"{model.target_column!r} and a 'prediction' column"
        ),
    }


def computed_sections(version: ModelVersion, *, sensitive_attribute: str = "") -> dict[str, Any]:
    """The data sections as Steward computes them now."""
    training = _datasets(version, Relation.TRAINED_ON)
    evaluation = _datasets(version, Relation.VALIDATED_WITH)
    return {
        "training_data": training,
        "evaluation_data": evaluation,
        "quantitative_analysis": quantitative_analysis(
            version, evaluation, sensitive_attribute=sensitive_attribute
        ),
    }


def prefilled_text(version: ModelVersion) -> dict[str, str]:
    """Text sections pre-filled from the registry (empty where it knows nothing)."""
    model = version.model
    return {
        key: getattr(model, PREFILL[key], "") if key in PREFILL else ""
        for key in sections.TEXT_KEYS
    }


def is_frozen(version: ModelVersion) -> bool:
    """An approved (or archived) version's card is frozen unless a revalidation request is
    open on it: that request is the new approval a later change needs."""
    if version.stage not in (Stage.APPROVED, Stage.ARCHIVED):
        return False
    return not version.approval_requests.filter(kind="revalidation", state="pending").exists()


def _audit_seq(target_type: str, target_id: int, actions: list[str]) -> int | None:
    return (
        AuditEvent.objects.filter(
            target_type=target_type, target_id=str(target_id), action__in=actions
        )
        .order_by("-seq")
        .values_list("seq", flat=True)
        .first()
    )


def model_card_for(version: ModelVersion) -> dict[str, Any]:
    """The version's model card: its latest revision (or, without one, the draft Steward
    pre-fills), as sections in reading order, each with where it comes from:
    `{"kind": "revision", "revision", "edited_by", "at", "audit_seq"}` for a written text,
    `{"kind": "registry", "object", "field"}` for a pre-filled one, `{"kind": "computed",
    ...}` for a data section, and `{"kind": "gap"}` for what nobody has written yet."""
    revision = latest_revision(version)
    model = version.model
    if revision is not None:
        text = revision.content.get("text", {})
        data = revision.content.get("data", {})
        seq = _audit_seq(
            "governance.modelcardrevision", revision.pk, ["governance.model_card.saved"]
        )
        written = {
            "kind": "revision",
            "revision": revision.number,
            "edited_by": revision.edited_by.get_username(),
            "at": revision.created_at.isoformat(),
            "object": f"governance.modelcardrevision:{revision.pk}",
            "audit_seq": seq,
        }
    else:
        text = prefilled_text(version)
        data = computed_sections(version)
        written = None
    out_sections: list[dict[str, Any]] = []
    for key, title, _help in sections.TEXT_SECTIONS:
        value = text.get(key, "")
        if not value:
            source: dict[str, Any] = {"kind": "gap"}
        elif written is not None:
            source = written
        else:
            source = {"kind": "registry", "object": f"registry.registeredmodel:{model.pk}"}
            source["field"] = PREFILL[key]
        out_sections.append(
            {"key": key, "title": title, "type": "text", "content": value, "source": source}
        )
    for key, title in sections.DATA_SECTIONS:
        out_sections.append(
            {
                "key": key,
                "title": title,
                "type": "data",
                "content": data.get(key),
                "source": {
                    "kind": "computed",
                    "at_revision": revision.number if revision else None,
                },
            }
        )
    filled, total = sections.completeness(text)
    return {
        "model": model.slug,
        "version": version.number,
        "revision": revision.number if revision else None,
        "digest": revision.digest if revision else None,
        "frozen": is_frozen(version),
        "complete": filled == total,
        "filled": filled,
        "total": total,
        "sensitive_attribute": (revision.content.get("settings", {}) if revision else {}).get(
            "sensitive_attribute", ""
        ),
        "sections": out_sections,
    }


INVENTORY_LABELS = {
    "owner": "Owner",
    "developer": "Developer",
    "validator": "Validator",
    "validation_status": "Validation status",
    "validated_on": "Validated on",
    "next_validation_due": "Next validation due",
    "intended_use": "Intended use",
    "restrictions": "Restrictions",
    "expected_end_of_life": "Expected end of life",
    "risk_tier": "Risk tier",
    "risk_rationale": "Risk tier rationale",
    "regulatory_class": "Regulatory classification",
    "regulatory_category": "Regulatory category",
}
_INVENTORY_ACTIONS = [
    "registry.model.created",
    "registry.model.updated",
    "registry.model.risk_tier_changed",
    "registry.model.inventory_changed",
    "registry.model.validation_changed",
]


def inventory_row(model: RegisteredModel) -> dict[str, Any]:
    """The inventory fields as plain values (dates ISO, choices as codes)."""
    row: dict[str, Any] = {}
    for field in INVENTORY_LABELS:
        value = getattr(model, field)
        if field == "owner":
            value = value.get_username()
        elif hasattr(value, "isoformat"):
            value = value.isoformat()
        row[field] = value
    return row


def inventory_fields_for(model: RegisteredModel) -> dict[str, Any]:
    """The model's inventory fields, each `{label, value, display, source}`; the source names
    the model row and the last audit entry that changed the field (None if none did since
    the model was created; a field never set is a gap)."""
    events = AuditEvent.objects.filter(
        target_type="registry.registeredmodel",
        target_id=str(model.pk),
        action__in=_INVENTORY_ACTIONS,
    ).order_by("-seq")
    last_change: dict[str, int] = {}
    for seq, action, after in events.values_list("seq", "action", "after"):
        for field in after or {}:
            last_change.setdefault(field, seq)
        if action == "registry.model.created":
            for field in INVENTORY_LABELS:
                last_change.setdefault(field, seq)
    values = inventory_row(model)
    fields: dict[str, Any] = {}
    for field, label in INVENTORY_LABELS.items():
        display_method = getattr(model, f"get_{field}_display", None)
        value = values[field]
        fields[field] = {
            "label": label,
            "value": value,
            "display": display_method() if display_method else value,
            "source": {
                "kind": "registry" if value not in ("", None) else "gap",
                "object": f"registry.registeredmodel:{model.pk}",
                "audit_seq": last_change.get(field),
            },
        }
    return fields
